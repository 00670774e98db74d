/**
 * Retrying a call that failed for a reason that may pass (a timeout, a 503,
 * an open circuit), and bounding how long one attempt may take. Waits run
 * on the injected {@link Sleeper} and the deadline on the injected
 * {@link Clock}, so tests drive both with `manualTime`.
 */
import type { Clock } from "../clock";
import { type BackoffPolicy, backoffDelay } from "./backoff";
import type { Sleeper } from "./sleep";

/**
 * A failure worth trying again. Throw it (or any object with
 * `retryable: true`) from the function given to {@link retry}; set
 * `retryAfterMs` when the other side said how long to wait (`Retry-After`).
 *
 * @example
 * if (res.status === 503) throw new RetryableError("upstream busy", { retryAfterMs: 5_000 });
 */
export class RetryableError extends Error {
  readonly retryable = true;
  /** The least time to wait before the next attempt, ms. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "RetryableError";
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Whether `error` says trying again may succeed: a {@link RetryableError}
 * or any object carrying `retryable: true`, so other layers' errors opt in
 * without importing this class.
 *
 * @example
 * isRetryable(new TimeoutError(1_000)); // true
 * isRetryable(new TypeError("bad input")); // false
 */
export function isRetryable(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { retryable?: unknown }).retryable === true;
}

/** One attempt ran longer than {@link withTimeout} allowed. Retryable. */
export class TimeoutError extends RetryableError {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = "TimeoutError";
  }
}

/** How {@link retry} retries. */
export interface RetryOptions extends BackoffPolicy {
  /** Attempts in all, the first included (1 means no retry). */
  maxAttempts: number;
  clock: Clock;
  sleeper: Sleeper;
  /** Epoch ms: no attempt begins after it; the last error is thrown instead of waiting past it. */
  deadline?: number;
  /** Stops retrying; an abort during a wait rejects with its reason. Also given to `fn`. */
  signal?: AbortSignal;
  /** Source of jitter in [0, 1); default Math.random. */
  random?: () => number;
  /** Which errors to retry; default {@link isRetryable}. */
  retryable?: (error: unknown) => boolean;
  /** Told before each wait: the attempt that failed, the wait, its error. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * Calls `fn` until it resolves, waiting a full-jitter backoff (at least the
 * error's `retryAfterMs`) after each retryable failure. Rethrows the last
 * error at once when it is not retryable, when `maxAttempts` are spent, when
 * the wait would end past `deadline`, or when `signal` aborted during the
 * attempt; an abort during a wait, or before the first attempt, rejects
 * with the signal's reason (and `fn` is not called again).
 *
 * @example
 * const res = await retry(
 *   (attempt, signal) => withTimeout((s) => fetchOrThrow(url, s), 5_000, sleeper, signal),
 *   { maxAttempts: 4, baseMs: 200, maxMs: 5_000, clock, sleeper, deadline: clock.now().getTime() + 20_000 },
 * );
 */
export async function retry<T>(
  fn: (attempt: number, signal?: AbortSignal) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { maxAttempts, clock, sleeper, deadline, signal, random, onRetry } = options;
  if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1)) {
    throw new RangeError(`maxAttempts must be an integer ≥ 1, got ${maxAttempts}`);
  }
  const retryable = options.retryable ?? isRetryable;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt, signal);
    } catch (error) {
      if (attempt >= maxAttempts || signal?.aborted || !retryable(error)) throw error;
      const delayMs = Math.max(backoffDelay(attempt, options, random), retryAfter(error));
      if (deadline !== undefined && clock.now().getTime() + delayMs > deadline) throw error;
      onRetry?.({ attempt, delayMs, error });
      await sleeper.sleep(delayMs, signal);
    }
  }
}

function retryAfter(error: unknown): number {
  if (typeof error !== "object" || error === null) return 0;
  const ms = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof ms === "number" && Number.isFinite(ms) && ms > 0 ? Math.ceil(ms) : 0;
}

/**
 * Runs one attempt with a time limit: `fn` gets a signal that aborts when
 * `ms` pass on `sleeper` (or `parent` aborts), and the result rejects then
 * with a {@link TimeoutError} (or the parent's reason) even if `fn` ignores
 * its signal.
 *
 * @example
 * const res = await withTimeout((signal) => fetch(url, { signal }), 5_000, realSleeper);
 */
export function withTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  ms: number,
  sleeper: Sleeper,
  parent?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (parent?.aborted) {
      reject(parent.reason);
      return;
    }
    const attempt = new AbortController();
    const timer = new AbortController();
    let settled = false;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      timer.abort();
      parent?.removeEventListener("abort", onParentAbort);
      finish();
    };
    const onParentAbort = () => {
      attempt.abort(parent?.reason);
      settle(() => reject(parent?.reason));
    };
    parent?.addEventListener("abort", onParentAbort, { once: true });
    void sleeper.sleep(ms, timer.signal).then(
      () => {
        if (settled) return;
        const error = new TimeoutError(ms);
        attempt.abort(error);
        settle(() => reject(error));
      },
      // Rejected only by `timer`, once the attempt has settled.
      () => undefined,
    );
    let work: Promise<T>;
    try {
      work = fn(attempt.signal);
    } catch (error) {
      work = Promise.reject(error);
    }
    void work.then(
      (value) => settle(() => resolve(value)),
      (error) => settle(() => reject(error)),
    );
  });
}
