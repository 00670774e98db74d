/** What the limiter knows per isolate: keys known blocked, estimates of async keys, and its figures. */
import { TtlCache } from "../cache/ttl-cache";
import { type Rate, rerated, sameRate } from "./gcra";

/**
 * Keys known to be over their limit, by `<policy>:<key hash>` and rate ({@link blockKey}):
 * answered in this isolate without a Durable Object call until they may pass again.
 * Staleness bound: none needed, an entry ends when its key would be admitted.
 */
export const blockedUntil = new TtlCache<string, number>({ ttlMs: 86_400_000, maxEntries: 100_000 });

/**
 * A blocked key is named with its rate: a refusal's end was worked out at that rate, and a
 * tenant that raises its limit makes room sooner, which the key's object (asked again) knows.
 */
export function blockKey(id: string, rate: Rate): string {
  return `${id}\u0000${rate.limit}/${rate.periodMs}/${rate.burst}`;
}

/**
 * The isolate's estimate of each key's GCRA state, for `async` policies: a
 * decision is made from it at once and reconciled with the key's Durable
 * Object after the response. Staleness bound: the object's answer, one
 * request later.
 */
export const estimates = new TtlCache<string, { tat: number; rate: Rate }>({ ttlMs: 600_000, maxEntries: 100_000 });

/**
 * The estimate of `id`'s TAT counted at `rate`: re-counted, as the key's object does, when it was
 * counted at another (the tenant changed the setting). Kept as time, a limit lowered to one a day
 * and raised again refused the key here until the estimate expired, without asking the object.
 */
export function estimateAt(id: string, rate: Rate, now: number): number {
  const e = estimates.get(id);
  if (!e) return 0;
  return sameRate(e.rate, rate) ? e.tat : rerated(e.rate, rate, e.tat, now);
}

/** How this isolate's limiter has done, for the bench and for metrics. */
export const limiterStats = {
  /** Decisions made from the isolate's estimate (async policies). */
  asyncDecisions: 0,
  /** Calls that reported async admissions to their objects (many admissions each under load). */
  asyncReports: 0,
  /** Reports after which the object said the key is over its limit (this isolate then blocks it). */
  asyncOverAdmitted: 0,
  /** Requests answered from the blocked-until cache, without a Durable Object call. */
  blockedHits: 0,
  /** Decisions the limiter could not make (object unreachable). */
  failures: 0,
};
