/**
 * A bulkhead: at most `maxConcurrent` calls to one dependency at a time, a
 * short FIFO queue behind them, and a quick refusal beyond that, so one slow
 * dependency cannot take every connection and every request of the isolate
 * with it. In memory, for one isolate or one Durable Object.
 */
import { RetryableError } from "./retry";
import type { Sleeper } from "./sleep";

/** How many run at once, how many wait, and for how long. */
export interface BulkheadPolicy {
  /** Calls running at once; ≥ 1. */
  maxConcurrent: number;
  /** Calls waiting for a slot; 0 refuses whenever all slots are taken. */
  maxQueued: number;
  /** Longest wait for a slot, ms. */
  queueTimeoutMs: number;
}

/** Every slot is taken and the queue is full. Retryable. */
export class BulkheadFullError extends RetryableError {
  constructor(policy: BulkheadPolicy) {
    super(`bulkhead full: ${policy.maxConcurrent} running, ${policy.maxQueued} queued`);
    this.name = "BulkheadFullError";
  }
}

/** Waited `queueTimeoutMs` without getting a slot. Retryable. */
export class BulkheadTimeoutError extends RetryableError {
  constructor(readonly queueTimeoutMs: number) {
    super(`no bulkhead slot within ${queueTimeoutMs} ms`);
    this.name = "BulkheadTimeoutError";
  }
}

interface Waiter {
  grant: () => void;
}

/**
 * Limits concurrent calls; waiting callers are admitted first come, first
 * served.
 *
 * @example
 * const smtp = new Bulkhead({ maxConcurrent: 4, maxQueued: 20, queueTimeoutMs: 2_000 }, realSleeper);
 * await smtp.run(() => send(message), c.req.raw.signal);
 */
export class Bulkhead {
  #active = 0;
  readonly #queue: Waiter[] = [];

  constructor(
    readonly policy: BulkheadPolicy,
    private readonly sleeper: Sleeper,
  ) {
    if (!(Number.isInteger(policy.maxConcurrent) && policy.maxConcurrent >= 1)) {
      throw new RangeError(`maxConcurrent must be an integer ≥ 1, got ${policy.maxConcurrent}`);
    }
    if (!(Number.isInteger(policy.maxQueued) && policy.maxQueued >= 0)) {
      throw new RangeError(`maxQueued must be an integer ≥ 0, got ${policy.maxQueued}`);
    }
    if (!(policy.queueTimeoutMs >= 0)) {
      throw new RangeError(`queueTimeoutMs must be ≥ 0, got ${policy.queueTimeoutMs}`);
    }
  }

  /** Calls holding a slot. */
  get active(): number {
    return this.#active;
  }

  /** Calls waiting for one. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Runs `fn` in a slot, waiting for one if need be; the slot is freed
   * however `fn` ends.
   */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /**
   * Takes a slot, waiting in line for one if all are taken; resolves to the
   * function that gives it back (calling it again does nothing). Rejects at
   * once with {@link BulkheadFullError} when the line is full, with
   * {@link BulkheadTimeoutError} after `queueTimeoutMs` in line, and with
   * `signal.reason` when it aborts first (leaving the line).
   *
   * @example
   * const release = await bulkhead.acquire(signal);
   * try { await stream.pipeTo(sink); } finally { release(); }
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.policy.maxConcurrent && this.#queue.length === 0) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#queue.length >= this.policy.maxQueued) return Promise.reject(new BulkheadFullError(this.policy));
    return new Promise<() => void>((resolve, reject) => {
      const timer = new AbortController();
      let waiting = true;
      const leave = (): boolean => {
        if (!waiting) return false;
        waiting = false;
        timer.abort();
        signal?.removeEventListener("abort", onAbort);
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        return true;
      };
      const waiter: Waiter = {
        grant: () => {
          if (!leave()) return;
          this.#active++;
          resolve(this.#releaser());
        },
      };
      const onAbort = () => {
        if (leave()) reject(signal?.reason);
      };
      this.#queue.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
      void this.sleeper.sleep(this.policy.queueTimeoutMs, timer.signal).then(
        () => {
          if (leave()) reject(new BulkheadTimeoutError(this.policy.queueTimeoutMs));
        },
        // Rejected only by `timer`, once the waiter has left the line.
        () => undefined,
      );
    });
  }

  #releaser(): () => void {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#active--;
      // Hand freed slots to the head of the line before anyone new can take them.
      while (this.#active < this.policy.maxConcurrent) {
        const next = this.#queue[0];
        if (!next) break;
        next.grant();
      }
    };
  }
}
