import { DurableObject } from "cloudflare:workers";
import { loadSigningKeys } from "../src/kernel/auth/signing-keys";
import { type Clock, isoNow } from "../src/kernel/clock";
import { ed25519Signer } from "../src/kernel/crypto";
import { WrongTenant, wipeStorage } from "../src/kernel/durable/erase";
import { type RpcArgs, type RpcReply, type RpcServer, rpcArgs } from "../src/kernel/durable/rpc";
import { migrateSqlite } from "../src/kernel/durable/sqlite-schema";
import { isErased, markErased, TenantErased } from "../src/kernel/durable/tombstone";
import { PingRpc, PONG } from "../src/kernel/health/contract";
import { type AuditCheckpoint, CHECKPOINT_V2, checkpointMessage } from "../src/modules/audit/chain";
import { AUDIT_PAGE, AuditLogRpc } from "../src/modules/audit/contract";
import { AUDIT_LOG_SCHEMA, AuditLogStore } from "../src/modules/audit/log-store";
import { verifyStep } from "../src/modules/audit/verify";

type Rpc = typeof AuditLogRpc;

/**
 * One per tenant, named by the tenant id: the single writer of the tenant's
 * tamper-evident audit chain. Appends are deduplicated by event id; entries
 * and checkpoints are insert-only. A thin RPC adapter over AuditLogStore and
 * the pure chain functions. Built over the platform's clock (src/index.ts), the time its
 * checkpoints are signed at; the test Worker's is one its tests move (test/object-clocks.ts).
 */
export function auditLogObject(platform: { clock: Clock }) {
  return class AuditLog extends DurableObject<Env> implements RpcServer<Rpc>, RpcServer<typeof PingRpc> {
    /** Readiness (kernel/health/contract.ts): answers without reading or writing data. */
    ping(input: RpcArgs<typeof PingRpc, "ping">): RpcReply<typeof PingRpc, "ping"> {
      rpcArgs(PingRpc, "ping", input);
      return PONG;
    }

    private readonly store: AuditLogStore;

    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env);
      this.store = new AuditLogStore(ctx.storage);
      void ctx.blockConcurrencyWhile(async () => {
        migrateSqlite(ctx.storage, AUDIT_LOG_SCHEMA);
      });
    }

    /**
     * Records events not seen before, in the given order; returns the entries of
     * all the given events. Signs a checkpoint once `checkpointEvery` entries
     * passed since the last one.
     */
    async append(input: RpcArgs<Rpc, "append">): Promise<RpcReply<Rpc, "append">> {
      const { events, checkpointEvery } = rpcArgs(AuditLogRpc, "append", input);
      // A batch that checked its tenant before the deletion, arriving after the erasure: nothing is
      // chained, and the refusal tells the consumer to drop the events (kernel/events/consume.ts).
      if (isErased(this.ctx.storage.kv)) throw new TenantErased("AuditLog");
      const result = this.store.append(events);
      const since = this.store.latestCheckpoint()?.seq ?? 0;
      const due = result.appended > 0 && this.store.last().seq - since >= checkpointEvery;
      return { ...result, checkpoint: due ? await this.checkpoint() : null };
    }

    /** Entries from `fromSeq`, oldest first. */
    entries(input: RpcArgs<Rpc, "entries">): RpcReply<Rpc, "entries"> {
      const { fromSeq, limit } = rpcArgs(AuditLogRpc, "entries", input);
      return this.store.entries(fromSeq, limit);
    }

    /**
     * Signs the latest seq with the platform's current Ed25519 key when the
     * chain advanced past the last checkpoint; returns the latest checkpoint
     * (null for an empty log).
     */
    async checkpoint(): Promise<RpcReply<Rpc, "checkpoint">> {
      const tenantId = this.store.tenantId();
      const last = this.store.last();
      const previous = this.store.latestCheckpoint();
      if (!tenantId || last.seq === 0 || (previous && previous.seq >= last.seq)) return previous;
      return this.sign(tenantId, last);
    }

    /**
     * What an export closes with: the chain's head signed now (version 2), after storing a
     * checkpoint if the chain advanced.
     * A log with no entry signs its head, seq 0 and the genesis hash, for `tenant_id` (the
     * object's name, which it learns from its first append otherwise), so that an empty
     * export proves the log empty instead of being an empty body a cut file reads the same
     * as. That one is signed afresh at each export (version 2, like every new one) and not stored:
     * "empty" is only true as of a time, and a stored one would vouch for it after the first
     * entry (checkpointMessage in modules/audit/chain.ts). An erased log signs nothing: its
     * tenant is gone, and "empty" would hide that.
     */
    async exportCheckpoint(input: RpcArgs<Rpc, "exportCheckpoint">): Promise<RpcReply<Rpc, "exportCheckpoint">> {
      const { tenant_id } = rpcArgs(AuditLogRpc, "exportCheckpoint", input);
      const own = this.store.tenantId();
      if (own !== null && own !== tenant_id)
        throw new Error("AuditLog refused to export: it belongs to another tenant");
      const last = this.store.last();
      if (last.seq > 0) {
        // Stored when the chain advanced, as always. The export itself ends with its head signed
        // as of now, unstored: the stored one of an idle log (or a version 1 one) says where the
        // log was when it was signed, and --max-age would refuse an export made today for it.
        await this.checkpoint();
        // Re-read after the await, in the same turn as signed() dates it: an append may have run,
        // or the erasure, and an erased log signs nothing (not "empty as of now", below).
        if (isErased(this.ctx.storage.kv)) return null;
        return this.signed(tenant_id, this.store.last());
      }
      if (isErased(this.ctx.storage.kv)) return null;
      // Whose log this is, so that another tenant's id is refused from now on, as after an append.
      this.store.recordTenant(tenant_id);
      return this.signed(tenant_id, last);
    }

    /** Signs `head` with the platform's current Ed25519 key and stores it; returns the latest checkpoint. */
    private async sign(tenantId: string, head: { seq: number; hash: string }): Promise<AuditCheckpoint | null> {
      const checkpoint = await this.signed(tenantId, head);
      // Re-read after the await: the tenant's erasure may have emptied the log while this signed,
      // and a checkpoint stored now would put the erased chain's head back under the tombstone.
      if (isErased(this.ctx.storage.kv)) return null;
      // A concurrent checkpoint of the same seq is harmless: the first one stays.
      this.store.addCheckpoint(checkpoint);
      return this.store.latestCheckpoint();
    }

    /**
     * A version 2 checkpoint of `head` (its signature covers its time; chain.ts checkpointMessage)
     * signed with the platform's current Ed25519 key, dated when `head` was read.
     */
    private async signed(tenantId: string, head: { seq: number; hash: string }): Promise<AuditCheckpoint> {
      // Read before the first await, in the same turn as `head`: an append may run while the key
      // loads, and an empty log's checkpoint says "empty as of signed_at", true only up to the read.
      const signedAt = isoNow(platform.clock);
      const signer = ed25519Signer(await loadSigningKeys(this.env.JWT_SIGNING_KEYS));
      // Version 2 at every seq: the signature covers signed_at, so an export says how fresh it is.
      const unsigned = { v: CHECKPOINT_V2, ...head, signed_at: signedAt };
      const message = new TextEncoder().encode(checkpointMessage(tenantId, unsigned));
      return { ...unsigned, kid: signer.kid, signature: await signer.sign(message) };
    }

    /**
     * Offboarding: refuses another tenant's id, then forgets the chain and its checkpoints,
     * leaving a tombstone (kernel/durable/tombstone.ts) so a late append chains nothing.
     */
    async eraseAll(input: RpcArgs<Rpc, "eraseAll">): Promise<RpcReply<Rpc, "eraseAll">> {
      const { tenant_id } = rpcArgs(AuditLogRpc, "eraseAll", input);
      const own = this.store.tenantId();
      if (own !== null && own !== tenant_id) throw new WrongTenant("AuditLog");
      await wipeStorage(this.ctx.storage, () => {
        migrateSqlite(this.ctx.storage, AUDIT_LOG_SCHEMA);
        markErased(this.ctx.storage.kv);
      });
      return { erased: true };
    }

    /**
     * One step of the chain's verification (modules/audit/verify.ts verifyStep): entries from
     * `fromSeq` (default 1), at most `limit` (default and cap AUDIT_VERIFY_MAX), recomputed against
     * the stored hash of the entry before, and the checkpoints in that range: each one's hash must
     * be the chain's at its seq and its signature must verify with a key of the current JWKS.
     * Bounded because the walk is synchronous (SQLite reads and hashing, no await between pages):
     * the object serves nothing else while it runs, and a request has 30 s of CPU.
     */
    async verify(input?: RpcArgs<Rpc, "verify">): Promise<RpcReply<Rpc, "verify">> {
      const { fromSeq, limit } = rpcArgs(AuditLogRpc, "verify", input);
      const signer = ed25519Signer(await loadSigningKeys(this.env.JWT_SIGNING_KEYS));
      // From here to the signature checks, one synchronous stretch: head, entries and checkpoints agree.
      const step = await verifyStep({
        tenantId: this.store.tenantId() ?? "",
        fromSeq,
        limit,
        head: this.store.last(),
        page: (from, n) => this.store.entries(from, n),
        checkpoints: (from, through) => this.store.checkpoints(from, through),
        signer,
        pageSize: AUDIT_PAGE,
      });
      return { ...step, checkpoint: this.store.latestCheckpoint() };
    }
  };
}

/** An AuditLog object, as the class {@link auditLogObject} returns. */
export type AuditLog = InstanceType<ReturnType<typeof auditLogObject>>;
