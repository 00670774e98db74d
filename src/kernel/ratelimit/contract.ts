import { z } from "zod";
import { defineRpc, rpcClient } from "../durable/rpc";

const RateSchema = z.object({
  limit: z.number().int().min(1).max(10_000_000),
  periodMs: z
    .number()
    .int()
    .min(1)
    .max(86_400_000 * 7),
  burst: z.number().int().min(1).max(10_000_000),
});

const VerdictSchema = z.object({
  allowed: z.boolean(),
  tat: z.number(),
  remaining: z.number().int().min(0),
  resetMs: z.number().min(0),
  retryAfterMs: z.number().min(0),
});

/**
 * The RateLimiter Durable Object's contract: one object per limited key
 * (`<policy>:<key>`), holding that key's GCRA state. `check` decides and
 * records one request at the caller's `now` (sync policies). `record` counts
 * `count` requests an isolate already admitted on its own estimate (async
 * policies) and answers whether the next one would pass, with the stored TAT.
 * `refund` gives back `count` requests `check` admitted (a login whose password was
 * right) and answers where the key then stands. `restore` gives the key its whole budget
 * back (a completed password reset: the account's `login` budget) and answers the same.
 */
export const RateLimiterRpc = defineRpc({
  check: {
    args: z.object({
      rate: RateSchema,
      now: z.number().int().min(0),
      cost: z.number().int().min(1).max(1000).default(1),
    }),
    reply: VerdictSchema,
  },
  record: {
    args: z.object({
      rate: RateSchema,
      now: z.number().int().min(0),
      count: z.number().int().min(1).max(1_000_000),
    }),
    reply: VerdictSchema,
  },
  refund: {
    args: z.object({
      rate: RateSchema,
      now: z.number().int().min(0),
      count: z.number().int().min(1).max(1000).default(1),
    }),
    reply: VerdictSchema,
  },
  restore: {
    args: z.object({ rate: RateSchema, now: z.number().int().min(0) }),
    reply: VerdictSchema,
  },
});

/** The typed client of one limited key's object: the only way to reach it. */
export function rateLimiterOf(env: Env, key: string) {
  return rpcClient(RateLimiterRpc, env.RATE_LIMITER.getByName(key), "RateLimiter");
}
