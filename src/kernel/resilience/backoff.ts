/**
 * Exponential backoff with full jitter: the wait before retry `n` is drawn
 * uniformly from `[0, min(maxMs, baseMs × factor^(n-1))]`. Full jitter spreads
 * the retries of many clients that failed together across the whole interval,
 * so they do not return in step and knock the dependency over again. Pure:
 * callers keep the attempt count (a queue message, a stored delivery row) and
 * may hand in their own randomness.
 */

/** How fast the ceiling on the wait grows, and where it stops. */
export interface BackoffPolicy {
  /** Ceiling of the first wait (after attempt 1), ms. */
  baseMs: number;
  /** The ceiling never grows past this, ms. */
  maxMs: number;
  /** Growth of the ceiling per attempt; default 2. */
  factor?: number;
}

/**
 * The longest wait after attempt `attempt` (1 for the first failure):
 * `min(maxMs, baseMs × factor^(attempt-1))`. Finite for any attempt: a
 * persisted count far past the cap (or a factor power that overflows to
 * Infinity) gives `maxMs`.
 *
 * @example
 * backoffCeiling(3, { baseMs: 30_000, maxMs: 21_600_000 }); // 120_000
 */
export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  const factor = policy.factor ?? 2;
  checkPolicy(policy.baseMs, policy.maxMs, factor);
  if (!Number.isFinite(attempt) || attempt < 1) throw new RangeError(`attempt must be ≥ 1, got ${attempt}`);
  // 0 × Infinity is NaN: a zero base never grows, however large the power.
  if (policy.baseMs === 0) return 0;
  return Math.min(policy.maxMs, policy.baseMs * factor ** (attempt - 1));
}

/**
 * The wait after attempt `attempt`, whole milliseconds drawn uniformly from
 * `[0, floor(backoffCeiling(attempt))]`.
 *
 * @example
 * const delayMs = backoffDelay(delivery.attempts, { baseMs: 30_000, maxMs: 6 * 3_600_000 });
 * await env.QUEUE.send(msg, { delaySeconds: Math.ceil(delayMs / 1000) });
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.floor(backoffCeiling(attempt, policy));
  // A random source that strays outside [0, 1) must not push the wait outside [0, ceiling].
  const u = random();
  const r = u > 0 ? Math.min(u, 1) : 0;
  return Math.min(ceiling, Math.floor(r * (ceiling + 1)));
}

function checkPolicy(baseMs: number, maxMs: number, factor: number): void {
  const finite = (n: number, least: number) => n >= least && Number.isFinite(n);
  if (!finite(baseMs, 0)) throw new RangeError(`baseMs must be a finite number ≥ 0, got ${baseMs}`);
  if (!finite(maxMs, 0)) throw new RangeError(`maxMs must be a finite number ≥ 0, got ${maxMs}`);
  if (!finite(factor, 1)) throw new RangeError(`factor must be a finite number ≥ 1, got ${factor}`);
}
