/**
 * The resilience kit: how plinth calls things that fail (other services,
 * webhook receivers, mail relays). Every piece runs on injected time, a
 * `Clock` and a `Sleeper`, so tests move time with
 * {@link manualTime} instead of waiting.
 *
 * Which to use:
 * - **{@link backoffDelay}**: how long to wait before retry `n` when the
 *   caller keeps the attempt count itself (a queue message's `attempts`, a
 *   stored delivery row) and schedules the retry later. Full jitter.
 * - **{@link retry}**: retries within one request or job, in memory, for
 *   errors marked {@link RetryableError} (or `retryable: true`), bounded by
 *   attempts, a deadline and an abort signal.
 * - **{@link withTimeout}**: bounds one attempt; use it inside `retry` so a
 *   hung attempt becomes a retryable {@link TimeoutError}.
 * - **{@link breakerAllow} / {@link breakerRecord}**: a circuit breaker as a
 *   pure function of a small JSON state, for a Durable Object that guards a
 *   dependency for every isolate; {@link CircuitBreaker} is the same for one
 *   isolate. Stops calling a dependency that keeps failing.
 * - **{@link Bulkhead}**: caps calls in flight to one dependency from one
 *   isolate, with a short FIFO queue, so a slow dependency cannot take every
 *   request with it.
 *
 * Composed, outermost first: `retry` → `breaker.run` → `bulkhead.run` →
 * `withTimeout` → the call. The breaker and bulkhead refusals are retryable,
 * and an open breaker's `retryAfterMs` makes `retry` wait out its cool-down.
 *
 * @example
 * const res = await retry(
 *   (_attempt, signal) =>
 *     breaker.run(() => bulkhead.run(() => withTimeout((s) => callUpstream(s), 5_000, sleeper, signal), signal)),
 *   { maxAttempts: 3, baseMs: 200, maxMs: 2_000, clock, sleeper, signal },
 * );
 */
export { type BackoffPolicy, backoffCeiling, backoffDelay } from "./backoff";
export {
  BREAKER_BUCKETS,
  type BreakerBucket,
  type BreakerDecision,
  type BreakerPolicy,
  type BreakerState,
  breakerAllow,
  breakerRecord,
  breakerStatus,
  CircuitBreaker,
  CircuitOpenError,
  initialBreaker,
} from "./breaker";
export { Bulkhead, BulkheadFullError, type BulkheadPolicy, BulkheadTimeoutError } from "./bulkhead";
export { Pacer } from "./pace";
export { isRetryable, RetryableError, type RetryOptions, retry, TimeoutError, withTimeout } from "./retry";
export {
  type ManualTime,
  manualTime,
  realSleeper,
  type SettableSleeper,
  type Sleeper,
  settableSleeper,
} from "./sleep";
