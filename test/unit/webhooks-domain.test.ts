import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { METRICS } from "../../src/kernel/metrics/catalog";
import {
  type AttemptOutcome,
  DEFAULT_POLICY,
  disableReason,
  EventFilter,
  nextStep,
  noStreak,
  retryAfterMs,
  streakAfter,
  wants,
} from "../../src/modules/webhooks/domain";
import { deliveryPolicy } from "../../src/modules/webhooks/policy";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const failed: AttemptOutcome = { kind: "rejected", status: 500, latencyMs: 10, response: "" };
const gone: AttemptOutcome = { kind: "rejected", status: 410, latencyMs: 10, response: "" };

describe("event filters", () => {
  it("match exact types, whole-segment prefixes and *", () => {
    expect(wants(["blog.post.created"], "blog.post.created")).toBe(true);
    expect(wants(["blog.post.created"], "blog.post.updated")).toBe(false);
    expect(wants(["blog.post.*"], "blog.post.updated")).toBe(true);
    expect(wants(["blog.*"], "blog.post.updated")).toBe(true);
    expect(wants(["blog.post.*"], "blog.postal.sent")).toBe(false);
    expect(wants(["blog.post.*"], "blog.post")).toBe(false);
    expect(wants(["*"], "identity.user.registered")).toBe(true);
    expect(wants([], "blog.post.created")).toBe(false);
  });

  it("accept only event types, prefixes ending in .* and *", () => {
    for (const ok of ["*", "blog.*", "blog.post.*", "blog.post.created", "webhooks.endpoint.disabled"]) {
      expect(EventFilter.safeParse(ok).success, ok).toBe(true);
    }
    for (const bad of ["", "blog.*.created", "*.created", "Blog.post", "blog..post", "blog.post.", "blog.**"]) {
      expect(EventFilter.safeParse(bad).success, bad).toBe(false);
    }
  });
});

describe("retry schedule", () => {
  it("spreads retries with full jitter up to the cap, and gives up after about three days", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.999999, noNaN: true }), (r) => {
        const first = 1_000_000;
        let now = first;
        let attempts = 0;
        for (;;) {
          attempts += 1;
          const step = nextStep({ attempts, firstAttemptAt: first }, failed, now, DEFAULT_POLICY, () => r);
          if ("giveUp" in step) break;
          const wait = step.retryAt - now;
          expect(wait).toBeGreaterThanOrEqual(0);
          expect(wait).toBeLessThanOrEqual(Math.min(30_000 * 2 ** (attempts - 1), 6 * HOUR));
          now = step.retryAt;
        }
        // Never retried past three days after the first attempt, nor more than the attempt limit.
        expect(now - first).toBeLessThanOrEqual(3 * DAY);
        expect(attempts).toBeLessThanOrEqual(DEFAULT_POLICY.maxAttempts);
      }),
    );
  });

  it("keeps trying for days at the expected (mid) jitter: well over a day of attempts", () => {
    const first = 0;
    let now = first;
    let attempts = 0;
    let last = 0;
    for (;;) {
      attempts += 1;
      const step = nextStep({ attempts, firstAttemptAt: first }, failed, now, DEFAULT_POLICY, () => 0.5);
      if ("giveUp" in step) break;
      now = step.retryAt;
      last = now;
    }
    expect(last).toBeGreaterThan(2 * DAY);
    expect(attempts).toBeGreaterThan(15);
  });

  it("waits at least what a receiver's Retry-After asks (a 429 or 503), up to the backoff's cap", () => {
    const busy: AttemptOutcome = { kind: "rejected", status: 503, latencyMs: 10, response: "", retryAfterMs: 120_000 };
    // Full jitter could draw a wait near zero; the receiver asked for two minutes.
    expect(nextStep({ attempts: 1, firstAttemptAt: 0 }, busy, 1_000, DEFAULT_POLICY, () => 0)).toEqual({
      retryAt: 121_000,
    });
    // A longer backoff wins over a shorter Retry-After.
    const soon: AttemptOutcome = { ...busy, retryAfterMs: 1_000 };
    expect(nextStep({ attempts: 3, firstAttemptAt: 0 }, soon, 0, DEFAULT_POLICY, () => 0.5)).toEqual({
      retryAt: 60_000,
    });
    // A receiver cannot park a message past the schedule's longest wait.
    const forever: AttemptOutcome = { ...busy, retryAfterMs: 30 * DAY };
    expect(nextStep({ attempts: 1, firstAttemptAt: 0 }, forever, 0, DEFAULT_POLICY, () => 0)).toEqual({
      retryAt: DEFAULT_POLICY.retry.maxMs,
    });
  });

  it("reads Retry-After as delay-seconds or an HTTP-date, and ignores anything else", () => {
    const now = Date.parse("2015-10-21T07:27:00Z");
    expect(retryAfterMs("120", now)).toBe(120_000);
    expect(retryAfterMs(" 0 ", now)).toBe(0);
    expect(retryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", now)).toBe(60_000);
    expect(retryAfterMs("Wed, 21 Oct 2015 07:00:00 GMT", now)).toBe(0);
    for (const bad of [null, "", "soon", "1.5", "-5"]) expect(retryAfterMs(bad, now)).toBeUndefined();
  });

  it("gives up at once when the receiver answers 410 Gone", () => {
    expect(nextStep({ attempts: 1, firstAttemptAt: 0 }, gone, 0, DEFAULT_POLICY)).toEqual({ giveUp: true });
  });
});

describe("failure streak", () => {
  it("disables an endpoint only after failing for the whole period and the minimum count", () => {
    let streak = noStreak();
    let now = 0;
    for (let i = 0; i < 9; i++) {
      streak = streakAfter(streak, false, now);
      now += 10 * HOUR;
    }
    // 9 failures over 80 h: long enough, but too few.
    expect(disableReason(streak, failed, now, DEFAULT_POLICY)).toBeNull();
    streak = streakAfter(streak, false, now);
    expect(disableReason(streak, failed, now, DEFAULT_POLICY)).toBe("failing");
  });

  it("starts again after any success", () => {
    let streak = noStreak();
    for (let i = 0; i < 20; i++) streak = streakAfter(streak, false, i * HOUR);
    streak = streakAfter(streak, true, 21 * HOUR);
    expect(streak).toEqual(noStreak());
    expect(disableReason(streakAfter(streak, false, 4 * DAY), failed, 4 * DAY, DEFAULT_POLICY)).toBeNull();
  });

  it("disables at once on 410 Gone", () => {
    expect(disableReason(noStreak(), gone, 0, DEFAULT_POLICY)).toBe("gone");
  });
});

describe("WEBHOOK_POLICY", () => {
  const envWith = (value: string) => ({ WEBHOOK_POLICY: value }) as unknown as Env;

  it("overrides the fields it names and keeps the rest", () => {
    const policy = deliveryPolicy(envWith('{"retry_base_ms":100,"disable_after_failures":3}'));
    expect(policy.retry).toEqual({ baseMs: 100, maxMs: DEFAULT_POLICY.retry.maxMs });
    expect(policy.disableAfterFailures).toBe(3);
    expect(policy.giveUpAfterMs).toBe(DEFAULT_POLICY.giveUpAfterMs);
  });

  it("refuses unknown fields and bad values, naming the field", () => {
    expect(() => deliveryPolicy(envWith('{"retry_base":1}'))).toThrow(/WEBHOOK_POLICY is invalid/);
    expect(() => deliveryPolicy(envWith('{"attempt_timeout_ms":5}'))).toThrow(/attempt_timeout_ms/);
    expect(() => deliveryPolicy(envWith("nope"))).toThrow(/not JSON/);
  });
});

describe("the attempts metric", () => {
  it("names in its HELP every outcome an attempt records as its label", () => {
    const kinds: Record<AttemptOutcome["kind"], true> = {
      delivered: true,
      rejected: true,
      unreachable: true,
      refused: true,
    };
    for (const kind of Object.keys(kinds)) expect(METRICS.webhookDeliveries.help).toContain(kind);
    expect(METRICS.webhookDeliveries.help).not.toContain("timeout");
  });
});
