import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { loadSigningKeys } from "../src/kernel/auth/signing-keys";
import { ed25519Signer } from "../src/kernel/crypto";
import { migrateSqlite } from "../src/kernel/durable/sqlite-schema";
import { type AuditCheckpoint, type AuditEntry, checkpointMessage } from "../src/modules/audit/chain";
import { AUDIT_LOG_SCHEMA, AuditLogStore } from "../src/modules/audit/log-store";
import { AuditDetailSchema } from "../src/modules/audit/subscriber";
import { verifyChain } from "../src/modules/audit/verify";

/** A checkpoint is signed inside `append` once the chain is this many entries past the last one. */
export const CHECKPOINT_EVERY = 100;
const PAGE = 500;

const AuditInputSchema = z.object({
  event_id: z.string().min(1).max(200),
  tenant_id: z.string().min(1).max(200),
  at: z.string().min(1).max(64),
  actor: z.object({ kind: z.string().min(1).max(32), id: z.string().max(200).nullable() }),
  action: z.string().min(1).max(200),
  target: z.string().max(500).nullable(),
  request_id: z.string().max(128).nullable(),
  ip_hash: z.string().max(128).nullable(),
  detail: AuditDetailSchema.nullable().default(null),
});
const AppendArgs = z.object({
  events: z.array(AuditInputSchema).max(500),
  checkpointEvery: z.number().int().min(1).max(100_000).default(CHECKPOINT_EVERY),
});
const EntriesArgs = z.object({ fromSeq: z.number().int().min(1), limit: z.number().int().min(1).max(PAGE) });

/** What `verify()` reports. */
export interface AuditVerification {
  ok: boolean;
  entries: number;
  last_seq: number;
  last_hash: string;
  checkpoint: AuditCheckpoint | null;
  broken_seq?: number;
}

/**
 * One per tenant, named by the tenant id: the single writer of the tenant's
 * tamper-evident audit chain. Appends are deduplicated by event id; entries
 * and checkpoints are insert-only. A thin RPC adapter over AuditLogStore and
 * the pure chain functions.
 */
export class AuditLog extends DurableObject<Env> {
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
  async append(input: {
    events: z.input<typeof AuditInputSchema>[];
    checkpointEvery?: number;
  }): Promise<{ entries: AuditEntry[]; appended: number; checkpoint: AuditCheckpoint | null }> {
    const { events, checkpointEvery } = AppendArgs.parse(input);
    const result = this.store.append(events);
    const since = this.store.latestCheckpoint()?.seq ?? 0;
    const due = result.appended > 0 && this.store.last().seq - since >= checkpointEvery;
    return { ...result, checkpoint: due ? await this.checkpoint() : null };
  }

  /** Entries from `fromSeq`, oldest first. */
  entries(input: { fromSeq: number; limit: number }): AuditEntry[] {
    const { fromSeq, limit } = EntriesArgs.parse(input);
    return this.store.entries(fromSeq, limit);
  }

  /**
   * Signs the latest seq with the platform's current Ed25519 key when the
   * chain advanced past the last checkpoint; returns the latest checkpoint
   * (null for an empty log).
   */
  async checkpoint(): Promise<AuditCheckpoint | null> {
    const tenantId = this.store.tenantId();
    const last = this.store.last();
    const previous = this.store.latestCheckpoint();
    if (!tenantId || last.seq === 0 || (previous && previous.seq >= last.seq)) return previous;
    const signer = ed25519Signer(await loadSigningKeys(this.env.JWT_SIGNING_KEYS));
    const message = new TextEncoder().encode(checkpointMessage(tenantId, last.seq, last.hash));
    const cp: AuditCheckpoint = {
      seq: last.seq,
      hash: last.hash,
      signed_at: new Date().toISOString(),
      kid: signer.kid,
      signature: await signer.sign(message),
    };
    // A concurrent checkpoint of the same seq is harmless: the first one stays.
    this.store.addCheckpoint(cp);
    return this.store.latestCheckpoint();
  }

  /**
   * Recomputes the whole chain and checks every checkpoint: its hash must be
   * the chain's at its seq and its signature must verify with a key of the
   * current JWKS. `broken_seq` is the first seq at fault.
   */
  async verify(): Promise<AuditVerification> {
    const { broken, last } = await verifyChain({
      tenantId: this.store.tenantId() ?? "",
      page: (from, limit) => this.store.entries(from, limit),
      checkpoints: this.store.checkpoints(),
      signer: ed25519Signer(await loadSigningKeys(this.env.JWT_SIGNING_KEYS)),
      pageSize: PAGE,
    });
    const count = this.store.last().seq;
    return {
      ok: broken === null,
      entries: count,
      last_seq: last.seq,
      last_hash: last.hash,
      checkpoint: this.store.latestCheckpoint(),
      ...(broken === null ? {} : { broken_seq: broken }),
    };
  }
}
