// retry on manual time: which errors are retried, how long it waits, and every way it stops.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffCeiling } from "../../src/kernel/resilience/backoff";
import { isRetryable, RetryableError, type RetryOptions, retry } from "../../src/kernel/resilience/retry";
import { manualTime } from "../../src/kernel/resilience/sleep";
import { track } from "./track";

const START = "2026-01-01T00:00:00Z";
const T0 = Date.parse(START);

function setup(overrides: Partial<RetryOptions> = {}) {
  const time = manualTime(START);
  const calls: number[] = [];
  const options: RetryOptions = {
    maxAttempts: 5,
    baseMs: 1_000,
    maxMs: 60_000,
    clock: time.clock,
    sleeper: time.sleeper,
    random: () => 0.5,
    ...overrides,
  };
  // Records when each attempt began, ms after the start.
  const at = () => calls.push(time.clock.now().getTime() - T0);
  return { time, calls, options, at };
}

describe("isRetryable", () => {
  it("is true for RetryableError and any object with retryable: true, false for the rest", () => {
    expect(isRetryable(new RetryableError("busy"))).toBe(true);
    expect(isRetryable({ retryable: true, message: "from another layer" })).toBe(true);
    expect(isRetryable(Object.assign(new Error("503"), { retryable: true }))).toBe(true);
    const others = [new Error("bug"), new TypeError("bad"), { retryable: "yes" }, { retryable: false }, null, "x"];
    for (const e of others) expect(isRetryable(e)).toBe(false);
  });
});

describe("retry", () => {
  it("retries retryable failures after jittered waits and returns the first success", async () => {
    const { time, calls, options, at } = setup();
    const seen: unknown[] = [];
    const result = track(
      retry(
        async (attempt) => {
          at();
          if (attempt < 3) throw new RetryableError(`fail ${attempt}`);
          return `ok on ${attempt}`;
        },
        { ...options, onRetry: (info) => seen.push({ attempt: info.attempt, delayMs: info.delayMs }) },
      ),
    );
    await time.advance(0);
    expect(calls).toEqual([0]);
    // random 0.5: half of each ceiling (1 000, then 2 000).
    await time.advance(499);
    expect(calls).toEqual([0]);
    await time.advance(1);
    expect(calls).toEqual([0, 500]);
    await time.advance(1_000);
    expect(calls).toEqual([0, 500, 1_500]);
    expect(result.value).toBe("ok on 3");
    expect(seen).toEqual([
      { attempt: 1, delayMs: 500 },
      { attempt: 2, delayMs: 1_000 },
    ]);
  });

  it("rethrows a non-retryable error at once, without waiting or calling again", async () => {
    const { time, calls, options, at } = setup();
    const bug = new TypeError("bad input");
    const result = track(
      retry(async () => {
        at();
        throw bug;
      }, options),
    );
    await time.advance(0);
    expect(result.error).toBe(bug);
    expect(time.pending()).toBe(0);
    await time.advance(600_000);
    expect(calls).toEqual([0]);
  });

  it("asks the given predicate instead of isRetryable", async () => {
    const { time, calls, options, at } = setup({ retryable: (e) => e instanceof Error && e.message === "flaky" });
    const result = track(
      retry(async (attempt) => {
        at();
        if (attempt === 1) throw new Error("flaky");
        throw new RetryableError("not by this predicate");
      }, options),
    );
    await time.advance(600_000);
    expect(calls).toHaveLength(2);
    expect((result.error as Error).message).toBe("not by this predicate");
  });

  it("rethrows the last error when maxAttempts are spent", async () => {
    const { time, calls, options, at } = setup({ maxAttempts: 3 });
    const result = track(
      retry(async (attempt) => {
        at();
        throw new RetryableError(`fail ${attempt}`);
      }, options),
    );
    await time.advance(600_000);
    expect(calls).toHaveLength(3);
    expect((result.error as Error).message).toBe("fail 3");
    expect(time.pending()).toBe(0);
  });

  it("gives up with the last error rather than wait past the deadline", async () => {
    // Waits of 1 000 then 2 000 (random ≈ 1): the second would end at 3 000, past 2 500.
    const { time, calls, options, at } = setup({ random: () => 0.9999, deadline: T0 + 2_500 });
    const result = track(
      retry(async (attempt) => {
        at();
        throw new RetryableError(`fail ${attempt}`);
      }, options),
    );
    await time.advance(1_000);
    expect(calls).toEqual([0, 1_000]);
    expect((result.error as Error).message).toBe("fail 2");
    expect(time.clock.now().getTime()).toBe(T0 + 1_000);
    expect(time.pending()).toBe(0);
  });

  it("waits at least retryAfterMs, even when the jitter draws less", async () => {
    const { time, calls, options, at } = setup({ random: () => 0 });
    const result = track(
      retry(async (attempt) => {
        at();
        if (attempt === 1) throw new RetryableError("slow down", { retryAfterMs: 5_000 });
        if (attempt === 2) throw { retryable: true, retryAfterMs: 7_000 };
        return "done";
      }, options),
    );
    await time.advance(4_999);
    expect(calls).toEqual([0]);
    await time.advance(1);
    expect(calls).toEqual([0, 5_000]);
    await time.advance(7_000);
    expect(calls).toEqual([0, 5_000, 12_000]);
    expect(result.value).toBe("done");
  });

  it("does not let retryAfterMs carry a wait past the deadline", async () => {
    const { time, calls, options, at } = setup({ random: () => 0, deadline: T0 + 10_000 });
    const busy = new RetryableError("come back in a minute", { retryAfterMs: 60_000 });
    const result = track(
      retry(async () => {
        at();
        throw busy;
      }, options),
    );
    await time.advance(0);
    expect(result.error).toBe(busy);
    expect(calls).toEqual([0]);
  });

  it("rejects with the abort reason when aborted mid-wait, and calls no more", async () => {
    const abort = new AbortController();
    const { time, calls, options, at } = setup({ signal: abort.signal });
    const result = track(
      retry(async () => {
        at();
        throw new RetryableError("fail");
      }, options),
    );
    await time.advance(100);
    expect(time.pending()).toBe(1);
    abort.abort(new Error("shutting down"));
    await time.advance(0);
    expect((result.error as Error).message).toBe("shutting down");
    expect(time.pending()).toBe(0);
    await time.advance(600_000);
    expect(calls).toEqual([0]);
  });

  it("never calls fn when the signal has already aborted", async () => {
    const { calls, options, at } = setup({ signal: AbortSignal.abort("gone") });
    await expect(
      retry(async () => {
        at();
        return 1;
      }, options),
    ).rejects.toBe("gone");
    expect(calls).toEqual([]);
  });

  it("rethrows the attempt's own error when the signal aborts during the attempt", async () => {
    const abort = new AbortController();
    const { time, calls, options, at } = setup({ signal: abort.signal });
    const failure = new RetryableError("would retry");
    const result = track(
      retry(async (_attempt, signal) => {
        at();
        expect(signal).toBe(abort.signal);
        abort.abort("cancelled");
        throw failure;
      }, options),
    );
    await time.advance(600_000);
    expect(result.error).toBe(failure);
    expect(calls).toEqual([0]);
  });

  it("refuses maxAttempts below 1", async () => {
    const { options } = setup({ maxAttempts: 0 });
    await expect(retry(async () => 1, options)).rejects.toThrow(RangeError);
  });

  it("waits between attempts k and k+1 no more than the ceiling of k, and makes every attempt (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 8, maxLength: 8 }),
        async (maxAttempts, draws) => {
          const policy = { baseMs: 100, maxMs: 2_000 };
          const left = [...draws];
          const random = () => left.shift() ?? 0;
          const { time, calls, options, at } = setup({ ...policy, maxAttempts, random });
          const result = track(
            retry(async () => {
              at();
              throw new RetryableError("down");
            }, options),
          );
          await time.advance(1_000_000);
          expect(result.settled).toBe(true);
          expect(calls).toHaveLength(maxAttempts);
          for (let k = 1; k < calls.length; k++) {
            const gap = (calls[k] ?? 0) - (calls[k - 1] ?? 0);
            expect(gap).toBeGreaterThanOrEqual(0);
            expect(gap).toBeLessThanOrEqual(backoffCeiling(k, policy));
          }
        },
      ),
    );
  });
});
