import { DurableObject } from "cloudflare:workers";
import type { Clock } from "../src/kernel/clock";
import { storedJson } from "../src/kernel/db/stored-json";
import { type RpcArgs, type RpcReply, type RpcServer, rpcArgs } from "../src/kernel/durable/rpc";
import { LazySchema } from "../src/kernel/durable/sqlite-schema";
import { PingRpc, PONG } from "../src/kernel/health/contract";
import { IdempotencyRpc, type StoredResponse, StoredResponseSchema } from "../src/kernel/idempotency/contract";
import { realSleeper, type Sleeper } from "../src/kernel/resilience/sleep";

type Rpc = typeof IdempotencyRpc;

/** The object's tables, one version per entry, each recorded as shipped by npm run generate: append a version, never edit one. */
export const IDEMPOTENCY_SCHEMA: string[][] = [
  [
    `create table records (
       key text primary key,
       fingerprint text not null,
       state text not null,
       response text,
       lease_until integer not null,
       expires_at integer not null
     )`,
    "create index records_expires on records (expires_at)",
  ],
];

interface Row extends Record<string, SqlStorageValue> {
  fingerprint: string;
  state: string;
  response: string | null;
  lease_until: number;
  expires_at: number;
}

/**
 * One per tenant principal: the single writer of its Idempotency-Key
 * records. A first request takes a lease and runs; a repeat with the same
 * body waits for it (then replays its response), and one with another body is
 * refused. Records expire after their TTL; the object's alarm deletes them, at the
 * time of the platform's clock (src/index.ts; the test Worker's is one its tests move,
 * test/object-clocks.ts). A repeat waits on the platform's sleeper (the runtime's timers
 * unless one is passed; the test Worker's is one its tests move).
 */
export function idempotencyStoreObject(platform: { clock: Clock; sleeper?: Sleeper }) {
  const sleeper = platform.sleeper ?? realSleeper;
  return class IdempotencyStore extends DurableObject<Env> implements RpcServer<Rpc>, RpcServer<typeof PingRpc> {
    /** Readiness (kernel/health/contract.ts): answers without reading or writing data. */
    ping(input: RpcArgs<typeof PingRpc, "ping">): RpcReply<typeof PingRpc, "ping"> {
      rpcArgs(PingRpc, "ping", input);
      return PONG;
    }

    /** Repeats waiting for a first request in this object, by key. */
    private readonly waiting = new Map<string, (() => void)[]>();

    /**
     * Made by the first record only. One object per principal that ever sent a key is objects
     * without end, which no tenant erasure reaches: the alarm deletes all storage once the last
     * record expired, and nothing but a new record brings it back (a late complete or abandon
     * finds nothing and writes nothing).
     */
    private readonly records = new LazySchema(this.ctx.storage, IDEMPOTENCY_SCHEMA);

    private row(key: string): Row | undefined {
      if (!this.records.present(false)) return undefined;
      return this.ctx.storage.sql.exec<Row>("select * from records where key = ?", key).toArray()[0];
    }

    async begin(input: RpcArgs<Rpc, "begin">): Promise<RpcReply<Rpc, "begin">> {
      const { key, fingerprint, legacyFingerprint, now, leaseMs, waitMs } = rpcArgs(IdempotencyRpc, "begin", input);
      let row = this.row(key);
      if (row && row.expires_at <= now) {
        this.ctx.storage.sql.exec("delete from records where key = ?", key);
        row = undefined;
      }
      if (row && row.fingerprint !== fingerprint) {
        // An older deploy's record holds the plain fingerprint: the same request when that matches,
        // kept under the keyed one from now on, so the plain hash leaves the store.
        if (legacyFingerprint === undefined || row.fingerprint !== legacyFingerprint) return { outcome: "mismatch" };
        this.ctx.storage.sql.exec("update records set fingerprint = ? where key = ?", fingerprint, key);
      }
      if (row?.state === "pending" && row.lease_until > now && waitMs > 0) {
        // Another request with this key is running: wait for it here (the object stays open to its completion).
        await this.waitFor(key, waitMs);
        row = this.row(key);
      }
      if (row?.state === "done" && row.response !== null) {
        return {
          outcome: "replay",
          response: StoredResponseSchema.parse(storedJson(row.response, "idempotency record response")),
        };
      }
      if (row?.state === "pending" && row.lease_until > now + waitMs) return { outcome: "in_progress" };
      this.records.present(true);
      this.ctx.storage.sql.exec(
        `insert into records (key, fingerprint, state, response, lease_until, expires_at) values (?, ?, 'pending', null, ?, ?)
       on conflict(key) do update set state = 'pending', response = null, lease_until = excluded.lease_until`,
        key,
        fingerprint,
        now + leaseMs,
        now + leaseMs,
      );
      await this.ensureAlarm(now + leaseMs);
      return { outcome: "proceed" };
    }

    async complete(input: RpcArgs<Rpc, "complete">): Promise<RpcReply<Rpc, "complete">> {
      const { key, response, now, ttlMs } = rpcArgs(IdempotencyRpc, "complete", input);
      const stored: StoredResponse = response.secret ? { ...response, body: "" } : response;
      // Its record expired and went with the rest (a request that outran its lease): nothing to keep.
      if (!this.records.present(false)) return this.wake(key);
      this.ctx.storage.sql.exec(
        "update records set state = 'done', response = ?, expires_at = ? where key = ?",
        JSON.stringify(stored),
        now + ttlMs,
        key,
      );
      await this.ensureAlarm(now + ttlMs);
      this.wake(key);
    }

    abandon(input: RpcArgs<Rpc, "abandon">): RpcReply<Rpc, "abandon"> {
      const { key, lease } = rpcArgs(IdempotencyRpc, "abandon", input);
      if (!this.records.present(false)) return this.wake(key);
      // Only its own lease: one a repeat took over after it ran out is the repeat's, still running.
      this.ctx.storage.sql.exec(
        "delete from records where key = ? and state = 'pending' and lease_until = ?",
        key,
        lease,
      );
      this.wake(key);
    }

    /** Deletes expired records; comes back for the next one to expire, or, with none left, deletes all storage. */
    override async alarm(): Promise<void> {
      if (!this.records.present(false)) return;
      const now = platform.clock.now().getTime();
      this.ctx.storage.sql.exec("delete from records where expires_at <= ?", now);
      const next = this.ctx.storage.sql
        .exec<{ at: number | null }>("select min(expires_at) as at from records")
        .one().at;
      if (next !== null) return this.ctx.storage.setAlarm(next);
      this.records.forget();
      await this.ctx.storage.deleteAll();
    }

    private async ensureAlarm(at: number): Promise<void> {
      const current = await this.ctx.storage.getAlarm();
      if (current === null || current > at) await this.ctx.storage.setAlarm(at);
    }

    /** Waits up to `ms` for `key`'s first request to end; {@link wake} ends the wait sooner. */
    private async waitFor(key: string, ms: number): Promise<void> {
      const woken = new AbortController();
      const wake = () => woken.abort();
      this.waiting.set(key, [...(this.waiting.get(key) ?? []), wake]);
      try {
        await sleeper.sleep(ms, woken.signal);
      } catch (error) {
        // Woken by the first request's end: the wait is over, not failed.
        if (!woken.signal.aborted) throw error;
      } finally {
        // A wait that ran out leaves no waker behind for a key that may never complete.
        const rest = (this.waiting.get(key) ?? []).filter((w) => w !== wake);
        if (rest.length > 0) this.waiting.set(key, rest);
        else this.waiting.delete(key);
      }
    }

    private wake(key: string): void {
      for (const wake of this.waiting.get(key) ?? []) wake();
      this.waiting.delete(key);
    }
  };
}

/** An IdempotencyStore object, as the class {@link idempotencyStoreObject} returns. */
export type IdempotencyStore = InstanceType<ReturnType<typeof idempotencyStoreObject>>;
