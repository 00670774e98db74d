import { z } from "zod";
import { defineRpc, rpcClient } from "../durable/rpc";

/** A response as first answered: what a repeat gets back. */
export const StoredResponseSchema = z.object({
  status: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
  /** The response held a secret shown once (Cache-Control: no-store): its body is not stored or replayed. */
  secret: z.boolean(),
});
export type StoredResponse = z.infer<typeof StoredResponseSchema>;

const Key = z.string().min(1).max(600);
const Fingerprint = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * The IdempotencyStore's contract: one object per tenant principal holds
 * that principal's keys (scoped by method and path), so the first request
 * and its repeats are decided one at a time.
 */
export const IdempotencyRpc = defineRpc({
  begin: {
    args: z.object({
      key: Key,
      fingerprint: Fingerprint,
      /**
       * The request's fingerprint as plinth kept it before fingerprints were keyed (fingerprint.ts,
       * plainFingerprint): matches a record an older deploy wrote, which is then kept under
       * `fingerprint`. Optional, so a caller from before it is still understood.
       */
      legacyFingerprint: Fingerprint.optional(),
      now: z.number().int().min(0),
      /** How long a first request may run before a repeat may take over. */
      leaseMs: z.number().int().min(1000).max(300_000),
      /** How long a repeat waits for a first request still running. */
      waitMs: z.number().int().min(0).max(60_000),
    }),
    reply: z.discriminatedUnion("outcome", [
      z.object({ outcome: z.literal("proceed") }),
      z.object({ outcome: z.literal("replay"), response: StoredResponseSchema }),
      z.object({ outcome: z.literal("mismatch") }),
      z.object({ outcome: z.literal("in_progress") }),
    ]),
  },
  complete: {
    args: z.object({
      key: Key,
      response: StoredResponseSchema,
      now: z.number().int().min(0),
      ttlMs: z.number().int().min(1),
    }),
    reply: z.void(),
  },
  /**
   * Ends the caller's lease (`lease`: the `now + leaseMs` of the begin that answered it `proceed`),
   * so a retry runs at once. A lease a repeat took over once it ran out is the repeat's: the late
   * abandon of the first request leaves it, so a third request meets it instead of running too.
   */
  abandon: { args: z.object({ key: Key, lease: z.number().int().min(0) }), reply: z.void() },
});

/** The typed client of one principal's idempotency records. */
export function idempotencyOf(env: Env, scope: string) {
  return rpcClient(IdempotencyRpc, env.IDEMPOTENCY.getByName(scope), "IdempotencyStore");
}
