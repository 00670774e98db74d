// CircuitBreaker, the in-process wrapper: what callers see when it opens, its snapshot, and retry around it.
import { describe, expect, it } from "vitest";
import { type BreakerPolicy, CircuitBreaker, CircuitOpenError } from "../../src/kernel/resilience/breaker";
import { isRetryable, RetryableError, retry } from "../../src/kernel/resilience/retry";
import { manualTime } from "../../src/kernel/resilience/sleep";

const START = "2026-01-01T00:00:00Z";
const T0 = Date.parse(START);
const policy: BreakerPolicy = {
  windowMs: 10_000,
  minimumCalls: 3,
  failureRate: 0.5,
  coolDownMs: 5_000,
  halfOpenProbes: 1,
};

const fail = async (): Promise<string> => {
  throw new Error("upstream 500");
};

async function openBreaker(breaker: CircuitBreaker) {
  for (let i = 0; i < 3; i++) await expect(breaker.run(fail)).rejects.toThrow("upstream 500");
}

describe("CircuitBreaker", () => {
  it("passes values and errors through while closed", async () => {
    const time = manualTime(START);
    const breaker = new CircuitBreaker(policy, time.clock);
    await expect(breaker.run(async () => 42)).resolves.toBe(42);
    await expect(breaker.run(fail)).rejects.toThrow("upstream 500");
    expect(breaker.status()).toBe("closed");
  });

  it("once open, fails fast with a retryable CircuitOpenError that says when, without calling fn", async () => {
    const time = manualTime(START);
    const breaker = new CircuitBreaker(policy, time.clock);
    await openBreaker(breaker);
    expect(breaker.status()).toBe("open");
    await time.advance(1_000);
    let called = false;
    const error = await breaker
      .run(async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(isRetryable(error)).toBe(true);
    expect((error as CircuitOpenError).retryAt).toBe(T0 + 5_000);
    expect((error as CircuitOpenError).retryAfterMs).toBe(4_000);
  });

  it("probes after the cool-down and closes on success, or reopens on failure", async () => {
    const time = manualTime(START);
    const breaker = new CircuitBreaker(policy, time.clock);
    await openBreaker(breaker);
    await time.advance(5_000);
    expect(breaker.status()).toBe("half_open");
    await expect(breaker.run(fail)).rejects.toThrow("upstream 500");
    expect(breaker.status()).toBe("open");
    expect(breaker.snapshot()).toMatchObject({ status: "open", until: T0 + 10_000 });
    await time.advance(5_000);
    await expect(breaker.run(async () => "back")).resolves.toBe("back");
    expect(breaker.status()).toBe("closed");
  });

  it("refuses a second call while its one probe is in flight", async () => {
    const time = manualTime(START);
    const breaker = new CircuitBreaker(policy, time.clock);
    await openBreaker(breaker);
    await time.advance(5_000);
    const probe = breaker.run(() => time.sleeper.sleep(100).then(() => "probe"));
    await expect(breaker.run(async () => "second")).rejects.toBeInstanceOf(CircuitOpenError);
    await time.advance(100);
    await expect(probe).resolves.toBe("probe");
    await expect(breaker.run(async () => "after")).resolves.toBe("after");
  });

  it("resumes from a stored snapshot with the same decisions", async () => {
    const time = manualTime(START);
    const first = new CircuitBreaker(policy, time.clock);
    await expect(first.run(fail)).rejects.toThrow();
    await expect(first.run(fail)).rejects.toThrow();
    const stored = JSON.parse(JSON.stringify(first.snapshot()));
    const second = new CircuitBreaker(policy, time.clock, stored);
    // The third failure in the window opens the resumed breaker as it would the first.
    await expect(second.run(fail)).rejects.toThrow("upstream 500");
    await expect(second.run(async () => 1)).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it("under retry, waits out the cool-down instead of hammering it", async () => {
    const time = manualTime(START);
    const breaker = new CircuitBreaker(policy, time.clock);
    await openBreaker(breaker);
    const attempts: number[] = [];
    const result = retry(
      () =>
        breaker.run(async () => {
          attempts.push(time.clock.now().getTime() - T0);
          return "ok";
        }),
      { maxAttempts: 3, baseMs: 10, maxMs: 10, clock: time.clock, sleeper: time.sleeper, random: () => 0 },
    );
    await time.advance(5_000);
    await expect(result).resolves.toBe("ok");
    expect(attempts).toEqual([5_000]);
  });

  it("counts every error fn throws as a failure, retryable or not", async () => {
    const time = manualTime(START);
    const breaker = new CircuitBreaker(policy, time.clock);
    for (let i = 0; i < 3; i++) {
      await expect(breaker.run(() => Promise.reject(new RetryableError("503")))).rejects.toThrow("503");
    }
    expect(breaker.status()).toBe("open");
  });
});
