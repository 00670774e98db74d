import { z } from "zod";
import { Actor } from "../src/kernel/actors";
import { type RpcArgs, type RpcReply, type RpcServer, rpcArgs } from "../src/kernel/durable/rpc";
import type { OutgoingEvent } from "../src/kernel/events/envelope";
import { InlineProjector } from "../src/kernel/events/inline";
import type { Origin } from "../src/kernel/events/origin";
import type { PlatformParts } from "../src/kernel/modules/types";
import { FileStoreRpc, type FileView, type Usage } from "../src/modules/files/contract";
import type { FileEvent } from "../src/modules/files/events";
import { manifest } from "../src/modules/files/manifest";
import { fileLimits, objectKey } from "../src/modules/files/policy";

type Rpc = typeof FileStoreRpc;

/**
 * How long a reservation holds quota for an upload that has not committed.
 * An upload still streaming after this is refused at commit (`upload_expired`);
 * one whose Worker died mid-way has its reservation and any R2 object it left
 * cleaned up by the expiry timer.
 */
export const RESERVATION_MS = 3_600_000;

/** The object's tables, one version per entry, each recorded as shipped by npm run generate: append a version, never edit one. */
export const FILE_STORE_SCHEMA: readonly string[][] = [
  [
    `create table files (
       id text primary key,
       name text not null,
       content_type text not null,
       size integer not null,
       sha256 text,
       status text not null check (status in ('pending', 'ready')),
       created_by text not null,
       created_at text not null
     )`,
    `create table usage (
       id integer primary key check (id = 1),
       used_bytes integer not null,
       files integer not null,
       quota_bytes integer
     )`,
    "insert into usage (id, used_bytes, files, quota_bytes) values (1, 0, 0, null)",
  ],
];

interface Row extends Record<string, SqlStorageValue> {
  id: string;
  name: string;
  content_type: string;
  size: number;
  sha256: string | null;
  status: "pending" | "ready";
  created_by: string;
  created_at: string;
}

interface UsageRow extends Record<string, SqlStorageValue> {
  used_bytes: number;
  files: number;
  quota_bytes: number | null;
}

const Timer = z.discriminatedUnion("kind", [
  /** A reservation's end: if its upload never committed, the quota is freed and any object it left deleted. */
  z.object({ kind: z.literal("expire"), id: z.string() }),
  /** Deletes a removed file's object (the route deletes it first; this is the guarantee). */
  z.object({ kind: z.literal("purge"), id: z.string() }),
]);
type Timer = z.infer<typeof Timer>;

/**
 * The FileStore actor class, one per tenant (named by the tenant id): the
 * single writer of the tenant's file metadata, usage and quota, so a quota
 * is exact under any number of concurrent uploads. Each change and its event
 * commit in one transaction; the events then go to the queue and, at once,
 * to the `files` projection in D1. See src/modules/files/contract.ts and
 * docs/files.md.
 */
export function fileStoreObject(platform: Pick<PlatformParts, "modules" | "needs" | "clock">) {
  return class FileStore extends Actor<Timer> implements RpcServer<Rpc> {
    private readonly inline: InlineProjector;

    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env, {
        name: "FileStore",
        schema: FILE_STORE_SCHEMA,
        timerMessage: Timer,
        module: manifest.name,
        modules: platform.modules,
        clock: platform.clock,
      });
      this.inline = new InlineProjector(platform, env);
    }

    reserve(input: RpcArgs<Rpc, "reserve">): Promise<RpcReply<Rpc, "reserve">> {
      return this.receive("reserve", () => {
        const a = rpcArgs(FileStoreRpc, "reserve", input);
        this.bindTenant(a.tenant_id);
        const usage = this.usageNow();
        if (usage.used_bytes + a.bytes > usage.quota_bytes) {
          return {
            ok: false as const,
            error: "quota_exceeded" as const,
            quota_bytes: usage.quota_bytes,
            used_bytes: usage.used_bytes,
          };
        }
        const sql = this.ctx.storage.sql;
        sql.exec(
          `insert into files (id, name, content_type, size, sha256, status, created_by, created_at)
           values (?, ?, ?, ?, null, 'pending', ?, ?)`,
          a.id,
          a.name,
          a.content_type,
          a.bytes,
          a.created_by,
          a.now,
        );
        sql.exec("update usage set used_bytes = used_bytes + ? where id = 1", a.bytes);
        this.schedule({ kind: "expire", id: a.id }, this.now() + RESERVATION_MS, { key: `expire:${a.id}` });
        return { ok: true as const };
      });
    }

    async commit(input: RpcArgs<Rpc, "commit">): Promise<RpcReply<Rpc, "commit">> {
      const events: OutgoingEvent[] = [];
      const reply = await this.receive("commit", () => {
        const { ctx, tenant_id, id, size, sha256 } = rpcArgs(FileStoreRpc, "commit", input);
        // An upload that outlived its tenant's erasure: its reservation went with the rest, so
        // answered as expired, which has the route delete the object it just stored in R2.
        if (this.erased()) return { ok: false as const, error: "expired" as const };
        const tenantId = this.bindTenant(tenant_id);
        const row = this.row(id);
        if (row?.status !== "pending") return { ok: false as const, error: "expired" as const };
        const sql = this.ctx.storage.sql;
        sql.exec("update files set size = ?, sha256 = ?, status = 'ready' where id = ?", size, sha256, id);
        sql.exec("update usage set used_bytes = used_bytes + ?, files = files + 1 where id = 1", size - row.size);
        this.cancel(`expire:${id}`);
        const file = toView({ ...row, size, sha256, status: "ready" });
        events.push(
          this.record(ctx, tenantId, `file/${id}`, {
            type: "files.file.uploaded",
            data: {
              file_id: id,
              name: file.name,
              content_type: file.content_type,
              size,
              sha256,
              created_at: file.created_at,
            },
          }),
        );
        return { ok: true as const, file };
      });
      await this.project(events);
      return reply;
    }

    release(input: RpcArgs<Rpc, "release">): Promise<RpcReply<Rpc, "release">> {
      return this.receive("release", () => {
        const { id } = rpcArgs(FileStoreRpc, "release", input);
        this.dropReservation(id);
        this.cancel(`expire:${id}`);
        return {};
      });
    }

    async remove(input: RpcArgs<Rpc, "remove">): Promise<RpcReply<Rpc, "remove">> {
      const events: OutgoingEvent[] = [];
      const reply = await this.receive("remove", () => {
        const { ctx, tenant_id, id } = rpcArgs(FileStoreRpc, "remove", input);
        const tenantId = this.bindTenant(tenant_id);
        const row = this.row(id);
        if (row?.status !== "ready") return { ok: false };
        const sql = this.ctx.storage.sql;
        sql.exec("delete from files where id = ?", id);
        sql.exec("update usage set used_bytes = used_bytes - ?, files = files - 1 where id = 1", row.size);
        events.push(
          this.record(ctx, tenantId, `file/${id}`, {
            type: "files.file.deleted",
            data: { file_id: id, size: row.size },
          }),
        );
        this.schedule({ kind: "purge", id }, this.now(), { key: `purge:${id}` });
        return { ok: true };
      });
      await this.project(events);
      return reply;
    }

    get(input: RpcArgs<Rpc, "get">): RpcReply<Rpc, "get"> {
      const { id } = rpcArgs(FileStoreRpc, "get", input);
      this.ready();
      const row = this.row(id);
      return row?.status === "ready" ? toView(row) : null;
    }

    /**
     * Rows by their SQLite rowid, which stays a row's for its life: a walk over pages sees
     * every row there when it began (a row written since is the projection's to copy).
     */
    page(input: RpcArgs<Rpc, "page">): RpcReply<Rpc, "page"> {
      const { after, limit } = rpcArgs(FileStoreRpc, "page", input);
      this.ready();
      const rows = this.ctx.storage.sql
        .exec<Row & { position: number }>(
          "select rowid as position, * from files where rowid > ? order by rowid limit ?",
          after,
          limit,
        )
        .toArray();
      return {
        files: rows.filter((r) => r.status === "ready").map(toView),
        read: rows.length,
        last: rows.at(-1)?.position ?? after,
      };
    }

    usage(input: RpcArgs<Rpc, "usage">): RpcReply<Rpc, "usage"> {
      rpcArgs(FileStoreRpc, "usage", input);
      this.ready();
      return this.usageNow();
    }

    setQuota(input: RpcArgs<Rpc, "setQuota">): Promise<RpcReply<Rpc, "setQuota">> {
      return this.receive("setQuota", () => {
        const { ctx, tenant_id, quota_bytes } = rpcArgs(FileStoreRpc, "setQuota", input);
        const tenantId = this.bindTenant(tenant_id);
        this.ctx.storage.sql.exec("update usage set quota_bytes = ? where id = 1", quota_bytes);
        this.record(ctx, tenantId, "files", { type: "files.quota.updated", data: { quota_bytes } });
        return this.usageNow();
      });
    }

    protected override async onTimer(message: Timer): Promise<void> {
      const tenantId = this.boundTenant();
      if (tenantId === null) return;
      if (message.kind === "expire") {
        // Freed first: a commit arriving after this finds no reservation and is refused.
        const dropped = this.transact(() => this.dropReservation(message.id));
        if (!dropped) return;
      }
      await this.env.FILES.delete(objectKey(tenantId, message.id));
    }

    protected override escalationAddress() {
      const tenantId = this.boundTenant();
      return tenantId === null ? null : { tenantId, stream: `${tenantId}/files` };
    }

    /** Deletes a pending row and frees its bytes; whether there was one. */
    private dropReservation(id: string): boolean {
      const row = this.row(id);
      if (row?.status !== "pending") return false;
      this.ctx.storage.sql.exec("delete from files where id = ?", id);
      this.ctx.storage.sql.exec("update usage set used_bytes = used_bytes - ? where id = 1", row.size);
      return true;
    }

    /** Applies committed events to the inline projections now (the D1 list shows a file once its upload answered). */
    private async project(events: OutgoingEvent[]): Promise<void> {
      if (events.length > 0) await this.inline.push(events);
    }

    private record(ctx: Origin, tenantId: string, stream: string, event: FileEvent): OutgoingEvent {
      return this.emit(
        { tenantId, stream: `${tenantId}/${stream}` },
        { ...event, actor: ctx.actor, requestId: ctx.requestId, ipHash: ctx.ipHash ?? null },
      );
    }

    private usageNow(): Usage {
      const u = this.ctx.storage.sql.exec<UsageRow>("select used_bytes, files, quota_bytes from usage").one();
      const platformQuota = fileLimits(this.env).quotaBytes;
      return {
        used_bytes: u.used_bytes,
        files: u.files,
        // The platform's quota caps a tenant's own, also one set before the platform lowered it.
        quota_bytes: Math.min(u.quota_bytes ?? platformQuota, platformQuota),
        tenant_quota_bytes: u.quota_bytes,
      };
    }

    private row(id: string): Row | undefined {
      return this.ctx.storage.sql.exec<Row>("select * from files where id = ?", id).toArray()[0];
    }
  };
}

function toView(r: Row): FileView {
  return {
    id: r.id,
    name: r.name,
    content_type: r.content_type,
    size: r.size,
    sha256: r.sha256 ?? "",
    created_by: r.created_by,
    created_at: r.created_at,
  };
}
