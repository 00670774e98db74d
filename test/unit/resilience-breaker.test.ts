// The circuit breaker's pure state machine: transitions, the sliding window, and a state that survives storage.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BREAKER_BUCKETS,
  type BreakerPolicy,
  type BreakerState,
  breakerAllow,
  breakerRecord,
  breakerStatus,
  initialBreaker,
} from "../../src/kernel/resilience/breaker";

const policy: BreakerPolicy = {
  windowMs: 10_000,
  minimumCalls: 4,
  failureRate: 0.5,
  coolDownMs: 5_000,
  halfOpenProbes: 2,
};

/** Admits and records one call at `now`; throws if it was refused. */
function call(state: BreakerState, ok: boolean, now: number, p = policy): BreakerState {
  const d = breakerAllow(state, now, p);
  if (!d.allowed) throw new Error(`refused at ${now}`);
  return breakerRecord(d.state, ok, now, p);
}

function calls(state: BreakerState, outcomes: boolean[], now: number): BreakerState {
  return outcomes.reduce((s, ok) => call(s, ok, now), state);
}

describe("breaker: closed", () => {
  it("does not open on fewer than minimumCalls calls, however many fail", () => {
    const state = calls(initialBreaker(), [false, false, false], 0);
    expect(breakerStatus(state, 0, policy)).toBe("closed");
    expect(breakerAllow(state, 0, policy).allowed).toBe(true);
  });

  it("opens once the window holds minimumCalls calls with at least failureRate failed", () => {
    let state = calls(initialBreaker(), [true, false, true, true, false], 0); // 2 of 5 failed: 40%
    expect(breakerStatus(state, 0, policy)).toBe("closed");
    state = call(state, false, 1_000); // 3 of 6: 50%
    expect(state).toEqual({ status: "open", openedAt: 1_000, until: 6_000 });
  });

  it("forgets calls older than the window", () => {
    const old = calls(initialBreaker(), [false, false, false], 0);
    // Within the window a fourth failure opens it...
    expect(breakerStatus(call(old, false, 5_000), 5_000, policy)).toBe("open");
    // ...a window later the first three are gone and one failure is below minimumCalls.
    expect(breakerStatus(call(old, false, 10_000), 10_000, policy)).toBe("closed");
  });

  it("slides: the oldest slice is forgotten alone, later calls keep counting", () => {
    const strict = { ...policy, minimumCalls: 3, failureRate: 1 };
    let state = call(initialBreaker(), true, 0, strict);
    state = call(state, false, 6_000, strict);
    state = call(state, false, 8_000, strict);
    expect(state.status).toBe("closed"); // one success among three
    // At 11 000 the success at 0 is out of the window; the failures at 6 000 and 8 000 are not.
    expect(call(state, false, 11_000, strict).status).toBe("open");
  });

  it("counts every call for at least windowMs minus one slice, and forgets it by windowMs", () => {
    const slice = policy.windowMs / BREAKER_BUCKETS;
    for (const t of [0, 1, 999, 4_321]) {
      const old = calls(initialBreaker(), [false, false, false], t);
      expect(call(old, false, t + policy.windowMs - slice).status).toBe("open");
      expect(call(old, false, t + policy.windowMs).status).toBe("closed");
    }
  });

  it("keeps at most BREAKER_BUCKETS counters however many calls it sees (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.boolean()), { maxLength: 500 }), (steps) => {
        const lenient = { ...policy, minimumCalls: 1_000_000 };
        let state = initialBreaker();
        let now = 0;
        for (const [gap, ok] of steps) {
          now += gap;
          state = call(state, ok, now, lenient);
          if (state.status !== "closed") throw new Error("opened");
          expect(state.buckets.length).toBeLessThanOrEqual(BREAKER_BUCKETS);
        }
      }),
    );
  });
});

describe("breaker: open and half-open", () => {
  // As four failures at 0 leave it (see "opens once the window holds minimumCalls calls").
  const opened: BreakerState = { status: "open", openedAt: 0, until: 5_000 };

  it("refuses until the cool-down has passed, saying when to come back", () => {
    expect(breakerAllow(opened, 4_999, policy)).toEqual({ allowed: false, state: opened, retryAt: 5_000 });
    expect(breakerStatus(opened, 4_999, policy)).toBe("open");
    expect(breakerStatus(opened, 5_000, policy)).toBe("half_open");
  });

  it("closed → open → half_open → closed: halfOpenProbes successes close it with a fresh window", () => {
    const first = breakerAllow(opened, 5_000, policy);
    expect(first.allowed).toBe(true);
    expect(first.state.status).toBe("half_open");
    const second = breakerAllow(first.state, 5_001, policy);
    expect(second.allowed).toBe(true);
    // Both probes out: a third call waits.
    const third = breakerAllow(second.state, 5_002, policy);
    expect(third.allowed).toBe(false);
    expect(third.retryAt).toBeGreaterThan(5_002);

    const oneBack = breakerRecord(second.state, true, 5_100, policy);
    expect(breakerStatus(oneBack, 5_100, policy)).toBe("half_open");
    const closed = breakerRecord(oneBack, true, 5_200, policy);
    expect(closed).toEqual(initialBreaker());
    // The failures that opened it are not held against it: three more stay below minimumCalls.
    expect(breakerStatus(calls(closed, [false, false, false], 5_300), 5_300, policy)).toBe("closed");
  });

  it("admits another probe once one has returned, never more than halfOpenProbes at once", () => {
    let state: BreakerState = opened;
    let inFlight = 0;
    let admitted = 0;
    for (let t = 5_000; t < 5_020; t++) {
      const d = breakerAllow(state, t, policy);
      state = d.state;
      if (d.allowed) {
        inFlight++;
        admitted++;
      }
      expect(inFlight).toBeLessThanOrEqual(policy.halfOpenProbes);
    }
    expect(admitted).toBe(2);
    state = breakerRecord(state, true, 5_020, policy);
    expect(breakerAllow(state, 5_021, policy).allowed).toBe(true);
  });

  it("half_open → open: a failed probe reopens for another full cool-down from the failure", () => {
    const probing = breakerAllow(opened, 6_000, policy).state;
    const reopened = breakerRecord(probing, false, 6_500, policy);
    expect(reopened).toEqual({ status: "open", openedAt: 6_500, until: 11_500 });
    expect(breakerAllow(reopened, 11_499, policy).allowed).toBe(false);
    expect(breakerAllow(reopened, 11_500, policy).allowed).toBe(true);
  });

  it("writes off probes never recorded after another cool-down, so a lost probe cannot wedge it", () => {
    let state = breakerAllow(opened, 5_000, policy).state;
    state = breakerAllow(state, 5_000, policy).state;
    const stuck = breakerAllow(state, 9_999, policy);
    expect(stuck).toMatchObject({ allowed: false, retryAt: 10_000 });
    expect(breakerAllow(state, 10_000, policy).allowed).toBe(true);
  });

  it("ignores results that come back while open", () => {
    expect(breakerRecord(opened, true, 1_000, policy)).toBe(opened);
    expect(breakerRecord(opened, false, 1_000, policy)).toBe(opened);
  });

  it("refuses a policy that cannot work", () => {
    for (const bad of [
      { failureRate: 0 },
      { failureRate: 1.5 },
      { windowMs: 0 },
      { minimumCalls: 0 },
      { halfOpenProbes: 0 },
      { coolDownMs: -1 },
    ]) {
      expect(() => breakerAllow(initialBreaker(), 0, { ...policy, ...bad })).toThrow(RangeError);
    }
  });
});

type Step = { gap: number } & ({ kind: "allow" } | { kind: "record"; ok: boolean });

describe("breaker state in storage", () => {
  const steps = fc.array(
    fc.oneof(
      fc.record({ gap: fc.integer({ min: 0, max: 4_000 }), kind: fc.constant("allow" as const) }),
      fc.record({ gap: fc.integer({ min: 0, max: 4_000 }), kind: fc.constant("record" as const), ok: fc.boolean() }),
    ),
    { maxLength: 200 },
  );

  it("decides the same after a JSON round trip at any point of any sequence (fast-check)", () => {
    fc.assert(
      fc.property(steps, fc.nat(), (sequence: Step[], cut) => {
        let kept = initialBreaker();
        let stored = initialBreaker();
        let now = 0;
        sequence.forEach((step, i) => {
          now += step.gap;
          // The stored twin goes through JSON at every step from `cut` on.
          if (i >= cut % (sequence.length + 1)) stored = JSON.parse(JSON.stringify(stored)) as BreakerState;
          if (step.kind === "allow") {
            const a = breakerAllow(kept, now, policy);
            const b = breakerAllow(stored, now, policy);
            expect(b).toEqual(a);
            kept = a.state;
            stored = b.state;
          } else {
            kept = breakerRecord(kept, step.ok, now, policy);
            stored = breakerRecord(stored, step.ok, now, policy);
            expect(stored).toEqual(kept);
          }
          expect(breakerStatus(stored, now, policy)).toBe(breakerStatus(kept, now, policy));
        });
      }),
    );
  });

  it("never opens while fewer than minimumCalls calls happened within the window (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.boolean()), { maxLength: 200 }), (run) => {
        let state = initialBreaker();
        let now = 0;
        const times: number[] = [];
        for (const [gap, ok] of run) {
          now += gap;
          const d = breakerAllow(state, now, policy);
          state = d.state;
          if (!d.allowed) continue;
          times.push(now);
          const next = breakerRecord(state, ok, now, policy);
          const opened = state.status === "closed" && next.status === "open";
          state = next;
          if (opened) {
            const recent = times.filter((t) => now - t < policy.windowMs).length;
            expect(recent).toBeGreaterThanOrEqual(policy.minimumCalls);
          }
        }
      }),
    );
  });
});
