import { z } from "@hono/zod-openapi";
import { EraseRpc } from "../../kernel/durable/erase";
import { defineRpc, rpcClient } from "../../kernel/durable/rpc";
import { AuditFactsSchema } from "../../kernel/events/envelope";
import type { AuditCheckpoint, AuditEntry } from "./chain";

/** The actor of an entry as recorded (kinds are open: entries outlive enums). */
const Actor = z.object({ kind: z.string().min(1).max(32), id: z.string().max(200).nullable() });

/** One link of a chain, as the AuditLog returns it. */
export const AuditEntrySchema = z.object({
  seq: z.number().int().min(1),
  at: z.string(),
  actor: Actor,
  action: z.string(),
  target: z.string().nullable(),
  request_id: z.string().nullable(),
  ip_hash: z.string().nullable(),
  detail: AuditFactsSchema.optional().openapi({
    description: "facts the writer recorded, e.g. the permission or rule a denial names, and its route",
  }),
  prev_hash: z.string(),
  hash: z.string(),
});

export const AuditCheckpointSchema = z.object({
  /** 2: the signature covers the tenant, seq, hash and signed_at. Absent: version 1, stored before, over tenant, seq and hash only. */
  v: z.literal(2).optional().openapi({
    description:
      "2: signed over plinth-audit-checkpoint/v2:<tenant_id>:<seq>:<hash>:<signed_at>; absent: a version 1 checkpoint, signed over <tenant_id>:<seq>:<hash> (its signed_at not signed)",
  }),
  /** 0 for an empty log's head (its hash the genesis hash), signed by its export. */
  seq: z.number().int().min(0),
  hash: z.string(),
  signed_at: z.string(),
  kid: z.string(),
  signature: z.string(),
});

// The schemas describe exactly the chain's own types (chain.ts, shared with the CLI).
AuditEntrySchema satisfies z.ZodType<AuditEntry>;
AuditCheckpointSchema satisfies z.ZodType<AuditCheckpoint>;

/** What the log records of one event, before it is chained. */
export const AuditInputSchema = z.object({
  event_id: z.string().min(1).max(200),
  tenant_id: z.string().min(1).max(200),
  at: z.string().min(1).max(64),
  actor: Actor,
  action: z.string().min(1).max(200),
  target: z.string().max(500).nullable(),
  request_id: z.string().max(128).nullable(),
  ip_hash: z.string().max(128).nullable(),
  detail: AuditFactsSchema.nullable().default(null),
});
export type AuditInput = z.output<typeof AuditInputSchema>;

/** A checkpoint is signed inside `append` once the chain is this many entries past the last one. */
export const CHECKPOINT_EVERY = 100;
/** Events per `append` call. */
export const AUDIT_APPEND_MAX = 500;
/** Entries per page of `entries` and of the verifier's walk. */
export const AUDIT_PAGE = 500;
/**
 * Entries one `verify` step recomputes at most, and by default. The walk costs ~14 µs an entry in
 * workerd under Miniflare (50–80 µs in the vitest pool's): a million-entry log in one request was
 * 14 s to a minute of CPU, against a Durable Object request's 30 s, and the walk is synchronous,
 * so every append of the tenant waited for it. A step of this many is ~0.15 s there (0.5 s in
 * the pool's); longer logs are verified in steps (docs/audit.md).
 */
export const AUDIT_VERIFY_MAX = 10_000;

/**
 * The AuditLog Durable Object's RPC contract, written once: the object
 * implements it, {@link auditLog} is the only way to call it.
 */
export const AuditLogRpc = defineRpc({
  /** Offboarding: empties the log, chain and checkpoints (export it first: docs/operations.md). */
  ...EraseRpc,
  append: {
    args: z.object({
      events: z.array(AuditInputSchema).max(AUDIT_APPEND_MAX),
      checkpointEvery: z.number().int().min(1).max(100_000).default(CHECKPOINT_EVERY),
    }),
    reply: z.object({
      entries: z.array(AuditEntrySchema),
      appended: z.number().int(),
      checkpoint: AuditCheckpointSchema.nullable(),
    }),
  },
  entries: {
    args: z.object({ fromSeq: z.number().int().min(1), limit: z.number().int().min(1).max(AUDIT_PAGE) }),
    reply: z.array(AuditEntrySchema),
  },
  checkpoint: { args: z.void(), reply: AuditCheckpointSchema.nullable() },
  /**
   * The checkpoint an export closes with: the chain's head (for a log with no entry seq 0 and
   * the genesis hash), signed for `tenant_id`, the object's name, afresh at each call as version
   * 2, over its `signed_at`, and not stored (chain.ts checkpointMessage); `checkpoint`'s is stored
   * first when the chain advanced. Null only for an erased log.
   */
  exportCheckpoint: {
    args: z.object({ tenant_id: z.string().min(1).max(200) }),
    reply: AuditCheckpointSchema.nullable(),
  },
  /**
   * One step of the chain's verification: entries `fromSeq` to `fromSeq + limit - 1`, against the
   * stored hash of entry `fromSeq - 1` (which the step before recomputed), and the checkpoints in
   * that range (and past it, in the step that reaches the end). Without arguments, from seq 1.
   */
  verify: {
    args: z
      .object({
        fromSeq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(1),
        limit: z.number().int().min(1).max(AUDIT_VERIFY_MAX).default(AUDIT_VERIFY_MAX),
      })
      .prefault({}),
    reply: z.object({
      ok: z.boolean(),
      entries: z.number().int().openapi({ description: "how many seqs this step covers (0 past the end)" }),
      from_seq: z.number().int(),
      last_seq: z.number().int(),
      last_hash: z.string(),
      checkpoint: AuditCheckpointSchema.openapi("AuditCheckpoint").nullable(),
      next_from_seq: z
        .number()
        .int()
        .nullable()
        .openapi({ description: "the from_seq of the next step; null once the end (or a fault) is reached" }),
      broken_seq: z.number().int().optional(),
    }),
  },
});

/** The typed client of a tenant's audit log. */
export function auditLog(env: Env, tenantId: string) {
  return rpcClient(AuditLogRpc, env.AUDIT_LOG.getByName(tenantId), "AuditLog");
}
