// Full-jitter backoff: the ceilings a retry schedule is built on, and the bounds of every wait.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BackoffPolicy, backoffCeiling, backoffDelay } from "../../src/kernel/resilience/backoff";

const HOUR = 3_600_000;
const webhooks: BackoffPolicy = { baseMs: 30_000, maxMs: 6 * HOUR };

const policies = fc.record({
  baseMs: fc.integer({ min: 0, max: 60_000 }),
  maxMs: fc.integer({ min: 0, max: 7 * 24 * HOUR }),
  factor: fc.option(fc.double({ min: 1, max: 10, noNaN: true }), { nil: undefined }),
});
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe("backoffCeiling", () => {
  it("doubles from baseMs by default and stops at maxMs", () => {
    const ceilings = [1, 2, 3, 10, 11, 12, 50].map((n) => backoffCeiling(n, webhooks));
    expect(ceilings).toEqual([30_000, 60_000, 120_000, 15_360_000, 6 * HOUR, 6 * HOUR, 6 * HOUR]);
  });

  it("grows by the policy's factor", () => {
    const p = { baseMs: 100, maxMs: 10_000, factor: 3 };
    expect([1, 2, 3, 4, 5].map((n) => backoffCeiling(n, p))).toEqual([100, 300, 900, 2_700, 8_100]);
    expect(backoffCeiling(6, p)).toBe(10_000);
  });

  it("is non-decreasing in the attempt and never above maxMs (fast-check)", () => {
    fc.assert(
      fc.property(policies, fc.integer({ min: 1, max: 1_100 }), (policy, attempt) => {
        const here = backoffCeiling(attempt, policy);
        const next = backoffCeiling(attempt + 1, policy);
        expect(Number.isFinite(here)).toBe(true);
        expect(here).toBeLessThanOrEqual(policy.maxMs);
        expect(next).toBeGreaterThanOrEqual(here);
      }),
    );
  });

  it("stays finite for persisted counts far past the cap, even where the power overflows", () => {
    for (const attempt of [1_000, 1_100, 1_000_000, Number.MAX_SAFE_INTEGER]) {
      expect(backoffCeiling(attempt, webhooks)).toBe(6 * HOUR);
      expect(backoffCeiling(attempt, { baseMs: 0, maxMs: HOUR })).toBe(0);
      expect(backoffCeiling(attempt, { baseMs: 1, maxMs: HOUR, factor: 10 })).toBe(HOUR);
    }
  });

  it("refuses an attempt below 1 and a policy that cannot be a schedule", () => {
    expect(() => backoffCeiling(0, webhooks)).toThrow(RangeError);
    expect(() => backoffCeiling(Number.NaN, webhooks)).toThrow(RangeError);
    expect(() => backoffCeiling(1, { baseMs: -1, maxMs: 10 })).toThrow(RangeError);
    expect(() => backoffCeiling(1, { baseMs: 1, maxMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => backoffCeiling(1, { baseMs: 1, maxMs: 10, factor: 0.5 })).toThrow(RangeError);
  });
});

describe("backoffDelay: full jitter", () => {
  it("spans the whole interval: 0 at the bottom of the random range, the ceiling at the top", () => {
    expect(backoffDelay(3, webhooks, () => 0)).toBe(0);
    expect(backoffDelay(3, webhooks, () => 0.5)).toBe(60_000);
    expect(backoffDelay(3, webhooks, () => 1 - Number.EPSILON)).toBe(120_000);
    expect(backoffDelay(40, webhooks, () => 1 - Number.EPSILON)).toBe(6 * HOUR);
  });

  it("is a whole number of ms in [0, ceiling] for every attempt and random draw (fast-check)", () => {
    fc.assert(
      fc.property(policies, fc.integer({ min: 1, max: 1_000 }), unit, (policy, attempt, u) => {
        const delay = backoffDelay(attempt, policy, () => u);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(backoffCeiling(attempt, policy));
      }),
    );
  });

  it("keeps a random source that strays outside [0, 1) inside the bounds", () => {
    for (const u of [1, 2, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const delay = backoffDelay(2, webhooks, () => u);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(60_000);
    }
  });

  it("covers a three-day webhook schedule: 50 attempts, every wait finite and at most six hours", () => {
    let total = 0;
    for (let attempt = 1; attempt <= 50; attempt++) {
      const delay = backoffDelay(attempt, webhooks);
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeLessThanOrEqual(6 * HOUR);
      total += delay;
    }
    expect(Number.isFinite(total)).toBe(true);
    expect(backoffDelay(1_000, webhooks, () => 0.25)).toBe(Math.floor(0.25 * (6 * HOUR + 1)));
  });

  it("draws uniformly: Math.random's waits average half the ceiling", () => {
    const draws = Array.from({ length: 20_000 }, () => backoffDelay(1, { baseMs: 1_000, maxMs: 1_000 }));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    // Standard error ≈ 289/√20000 ≈ 2; 30 ms is fifteen of them.
    expect(mean).toBeGreaterThan(470);
    expect(mean).toBeLessThan(530);
    expect(Math.min(...draws)).toBeLessThan(50);
    expect(Math.max(...draws)).toBeGreaterThan(950);
  });
});
