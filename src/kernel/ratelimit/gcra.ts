/**
 * The Generic Cell Rate Algorithm: exact rate limiting with one number of
 * state per key, the theoretical arrival time (TAT) of the next request. A
 * policy admits `limit` requests per `period`, up to `burst` at once: each
 * request moves the TAT one emission interval (`period / limit`) later, and
 * a request is refused when that would put the TAT more than `burst`
 * intervals ahead of now. Pure: the caller keeps the TAT and the clock.
 */

/** A rate: `limit` per `periodMs`, at most `burst` at once. */
export interface Rate {
  limit: number;
  periodMs: number;
  burst: number;
}

/** What a decision tells the caller and the client. */
export interface Verdict {
  allowed: boolean;
  /** The TAT to keep (unchanged when refused). */
  tat: number;
  /** Requests still admitted right now. */
  remaining: number;
  /** Milliseconds until the bucket is full again (every burst slot free). */
  resetMs: number;
  /** Milliseconds until a refused request would be admitted; 0 when allowed. */
  retryAfterMs: number;
}

/**
 * Decides one request of `cost` units at `now` against `tat` (0 for a key
 * never seen).
 *
 * @example
 * const v = gcra({ limit: 100, periodMs: 60_000, burst: 10 }, stored ?? 0, Date.parse(now));
 * if (v.allowed) stored = v.tat;
 */
export function gcra(rate: Rate, tat: number, now: number, cost = 1): Verdict {
  const interval = rate.periodMs / rate.limit;
  const tolerance = interval * rate.burst;
  const start = Math.max(tat, now);
  const next = start + interval * cost;
  if (next - now > tolerance) {
    return {
      allowed: false,
      tat,
      remaining: 0,
      resetMs: Math.max(0, start - now),
      retryAfterMs: Math.ceil(next - now - tolerance),
    };
  }
  return {
    allowed: true,
    tat: next,
    remaining: Math.floor((tolerance - (next - now)) / interval + 1e-9),
    resetMs: Math.ceil(next - now),
    retryAfterMs: 0,
  };
}

/**
 * The TAT after `count` requests that were admitted elsewhere (an isolate's
 * own estimate, async policies) are counted at `now`. Unlike `gcra` it never
 * refuses: those requests were served, and counting all of them is what
 * holds the long-run rate to the policy, however far the TAT moves ahead.
 *
 * @example
 * stored = spent(rate, stored ?? 0, now, 12); // twelve admitted since the last report
 * const next = gcra(rate, stored, now);       // would the next one pass?
 */
export function spent(rate: Rate, tat: number, now: number, count: number): number {
  return Math.max(tat, now) + (rate.periodMs / rate.limit) * count;
}

/**
 * The TAT after `count` admitted requests are given back at `now` (a login whose password
 * was right, where only failures should count): each moves the TAT one interval earlier,
 * never before `now`, since a bucket holds no more than `burst`.
 *
 * @example
 * stored = refunded(rate, stored ?? 0, now); // the request admitted a moment ago did not count
 */
export function refunded(rate: Rate, tat: number, now: number, count = 1): number {
  if (tat <= now) return tat; // already full: nothing to give back
  return Math.max(now, tat - (rate.periodMs / rate.limit) * count);
}

/**
 * The TAT of a key given its whole budget back at `now` (a completed password reset: the
 * `login` budget that guesses of the old password spent): a full bucket, as for a key never
 * seen, never a TAT later than the one it had.
 *
 * @example
 * stored = restored(stored ?? 0, now); // the next request sees `burst` free
 */
export function restored(tat: number, now: number): number {
  return Math.min(tat, now);
}

/**
 * Where a key stands at `now` with `tat`, without spending anything: what the RateLimit
 * header of the last admitted request would say (`remaining` after it, `resetMs` to full).
 */
export function standing(rate: Rate, tat: number, now: number): Verdict {
  const interval = rate.periodMs / rate.limit;
  const ahead = Math.max(0, tat - now);
  return {
    allowed: true,
    tat,
    remaining: Math.max(0, Math.min(rate.burst, Math.floor((interval * rate.burst - ahead) / interval + 1e-9))),
    resetMs: Math.ceil(ahead),
    retryAfterMs: 0,
  };
}

/**
 * Milliseconds until the bucket is full, for a key refused with `retryAfterMs` still to wait:
 * a refusal keeps the TAT, and `gcra` then puts it `burst - 1` intervals past the moment the
 * next request passes. What the isolate's blocked-until cache, which keeps only that moment,
 * answers the RateLimit header's `t` with, so it says what the key's object said.
 *
 * @example
 * resetAfterRefusal({ limit: 2, periodMs: 3_600_000, burst: 2 }, 1_800_000); // 3_600_000
 */
export function resetAfterRefusal(rate: Rate, retryAfterMs: number): number {
  return retryAfterMs + (rate.periodMs / rate.limit) * (rate.burst - 1);
}

/** Whether two rates are the same policy setting. */
export function sameRate(a: Rate, b: Rate): boolean {
  return a.limit === b.limit && a.periodMs === b.periodMs && a.burst === b.burst;
}

/**
 * The TAT at rate `to` of a key whose TAT was counted at `from` (its tenant saved another
 * setting). What the key owes is kept as a number of requests, not as time: a key that spent
 * its bucket at 3 an hour is still spent at 4 an hour (saving a new value is no fresh
 * budget), and a key that spent its one request a day owes one 60 ms interval at 1,000 a
 * minute, not the rest of the day (lowering a limit by mistake is not a lockout that raising
 * it again cannot end). Kept in full, even past a bucket of the new rate: a cap would forget what
 * it cut, so a limit lowered and raised again (or isolates still holding the old setting asking
 * between those holding the new, for up to 10 s) would give the key back what it spent. A key
 * that owes more than the lowered rate's bucket waits it out at that rate, or until it is raised.
 *
 * @example
 * rerated({ limit: 1, periodMs: 86_400_000, burst: 1 }, { limit: 1000, periodMs: 60_000, burst: 1000 }, now + 86_400_000, now);
 * // now + 60: one request owed, at the new interval
 */
export function rerated(from: Rate, to: Rate, tat: number, now: number): number {
  if (tat <= now) return tat;
  const owed = (tat - now) / (from.periodMs / from.limit);
  return now + owed * (to.periodMs / to.limit);
}
