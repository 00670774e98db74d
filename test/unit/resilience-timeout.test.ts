// withTimeout on manual time: the attempt's signal, the error it ends with, and its use inside retry.
import { describe, expect, it } from "vitest";
import { isRetryable, RetryableError, retry, TimeoutError, withTimeout } from "../../src/kernel/resilience/retry";
import { manualTime } from "../../src/kernel/resilience/sleep";
import { track } from "./track";

const START = "2026-01-01T00:00:00Z";

/** A call that ends when the test says so, or rejects when its signal aborts. */
function deferred<T>() {
  let resolve: (value: T) => void = () => undefined;
  let seen: AbortSignal | undefined;
  const call = (signal: AbortSignal) =>
    new Promise<T>((res, rej) => {
      seen = signal;
      resolve = res;
      signal.addEventListener("abort", () => rej(signal.reason), { once: true });
    });
  return { call, resolve: (v: T) => resolve(v), signal: () => seen };
}

describe("withTimeout", () => {
  it("returns the attempt's value when it beats the limit, and leaves no timer behind", async () => {
    const time = manualTime(START);
    const d = deferred<string>();
    const result = track(withTimeout(d.call, 1_000, time.sleeper));
    await time.advance(999);
    d.resolve("in time");
    await time.advance(0);
    expect(result.value).toBe("in time");
    expect(time.pending()).toBe(0);
    expect(d.signal()?.aborted).toBe(false);
  });

  it("rejects with a retryable TimeoutError when the limit passes first, aborting the attempt's signal", async () => {
    const time = manualTime(START);
    const d = deferred<string>();
    const result = track(withTimeout(d.call, 1_000, time.sleeper));
    await time.advance(999);
    expect(result.settled).toBe(false);
    await time.advance(1);
    expect(result.error).toBeInstanceOf(TimeoutError);
    expect(result.error).toBeInstanceOf(RetryableError);
    expect(isRetryable(result.error)).toBe(true);
    expect((result.error as TimeoutError).timeoutMs).toBe(1_000);
    expect(d.signal()?.aborted).toBe(true);
    expect(d.signal()?.reason).toBe(result.error);
  });

  it("times out an attempt that ignores its signal", async () => {
    const time = manualTime(START);
    const result = track(withTimeout(() => new Promise<never>(() => undefined), 50, time.sleeper));
    await time.advance(50);
    expect(result.error).toBeInstanceOf(TimeoutError);
  });

  it("passes the attempt's own failure through, thrown or rejected", async () => {
    const time = manualTime(START);
    const boom = new Error("boom");
    await expect(
      withTimeout(
        () => {
          throw boom;
        },
        1_000,
        time.sleeper,
      ),
    ).rejects.toBe(boom);
    await expect(withTimeout(() => Promise.reject(boom), 1_000, time.sleeper)).rejects.toBe(boom);
    expect(time.pending()).toBe(0);
  });

  it("follows the parent signal: aborts the attempt and rejects with the parent's reason", async () => {
    const time = manualTime(START);
    const parent = new AbortController();
    const result = track(withTimeout(() => new Promise<never>(() => undefined), 1_000, time.sleeper, parent.signal));
    parent.abort("client went away");
    await time.advance(0);
    expect(result.error).toBe("client went away");
    expect(time.pending()).toBe(0);

    let called = false;
    await expect(
      withTimeout(
        async () => {
          called = true;
        },
        1_000,
        time.sleeper,
        AbortSignal.abort("already"),
      ),
    ).rejects.toBe("already");
    expect(called).toBe(false);
  });

  it("inside retry, turns a hung attempt into a retry", async () => {
    const time = manualTime(START);
    const result = track(
      retry(
        (attempt, signal) =>
          withTimeout(
            (s) => (attempt === 1 ? new Promise<string>(() => s.throwIfAborted()) : Promise.resolve("second")),
            5_000,
            time.sleeper,
            signal,
          ),
        { maxAttempts: 3, baseMs: 100, maxMs: 100, clock: time.clock, sleeper: time.sleeper, random: () => 0 },
      ),
    );
    await time.advance(4_999);
    expect(result.settled).toBe(false);
    await time.advance(1);
    expect(result.value).toBe("second");
  });
});
