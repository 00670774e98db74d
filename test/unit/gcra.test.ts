// GCRA on its own: the arithmetic, and the bound that makes it a limiter.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  gcra,
  type Rate,
  refunded,
  rerated,
  resetAfterRefusal,
  restored,
  spent,
  standing,
} from "../../src/kernel/ratelimit/gcra";

const rate: Rate = { limit: 60, periodMs: 60_000, burst: 5 }; // one a second, five at once

describe("GCRA", () => {
  it("admits a burst at once, then one per interval, and says when to retry", () => {
    let tat = 0;
    const now = 1_000_000;
    const seen = [];
    for (let i = 0; i < 6; i++) {
      const v = gcra(rate, tat, now);
      if (v.allowed) tat = v.tat;
      seen.push([v.allowed, v.remaining, v.retryAfterMs]);
    }
    expect(seen).toEqual([
      [true, 4, 0],
      [true, 3, 0],
      [true, 2, 0],
      [true, 1, 0],
      [true, 0, 0],
      [false, 0, 1000],
    ]);
    expect(gcra(rate, tat, now + 999).allowed).toBe(false);
    expect(gcra(rate, tat, now + 1000)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("gives back an admitted request: the next one sees the bucket as if it had not come, never fuller than full", () => {
    const now = 1_000_000;
    const first = gcra(rate, 0, now);
    const second = gcra(rate, first.tat, now);
    const back = refunded(rate, second.tat, now);
    expect(back).toBe(first.tat);
    expect(standing(rate, back, now)).toMatchObject({ remaining: first.remaining, resetMs: first.resetMs });
    // Given back twice more: full, and no further (a refund never buys more than the burst).
    expect(refunded(rate, refunded(rate, back, now), now)).toBe(now);
    expect(standing(rate, now, now)).toMatchObject({ remaining: rate.burst, resetMs: 0 });
    // A key whose TAT has passed is full already: nothing changes.
    expect(refunded(rate, now - 5000, now)).toBe(now - 5000);
    // Spending all five, giving one back, leaves exactly one admission.
    let tat = 0;
    for (let i = 0; i < 5; i++) tat = gcra(rate, tat, now).tat;
    tat = refunded(rate, tat, now);
    const again = gcra(rate, tat, now);
    expect(again.allowed).toBe(true);
    expect(gcra(rate, again.tat, now).allowed).toBe(false);
  });

  it("restores a spent key to a full bucket, and never spends one that is full already", () => {
    const now = 1_000_000;
    let tat = 0;
    for (let i = 0; i < 5; i++) tat = gcra(rate, tat, now).tat;
    expect(gcra(rate, tat, now).allowed).toBe(false);
    // Even a key refused for a long while (owing more than its burst, after a lowered rate).
    expect(standing(rate, restored(tat + 60_000, now), now)).toMatchObject({ remaining: rate.burst, resetMs: 0 });
    expect(gcra(rate, restored(tat, now), now)).toMatchObject({ allowed: true, remaining: rate.burst - 1 });
    // A TAT in the past is full already: kept as it is.
    expect(restored(now - 5000, now)).toBe(now - 5000);
  });

  it("reports the time until the bucket is full again", () => {
    const first = gcra(rate, 0, 0);
    expect(first.resetMs).toBe(1000);
    const second = gcra(rate, first.tat, 0);
    expect(second.resetMs).toBe(2000);
  });

  it("never admits more than burst + rate × elapsed over any run of requests (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 300 }),
        (limit, burst, gaps) => {
          const r: Rate = { limit, periodMs: 10_000, burst };
          let tat = 0;
          let now = 0;
          let admitted = 0;
          for (const gap of gaps) {
            now += gap;
            const v = gcra(r, tat, now);
            if (v.allowed) {
              tat = v.tat;
              admitted++;
            }
          }
          // The first request is at gaps[0]; from then to `now` at most burst + limit × elapsed/period.
          const elapsed = now - (gaps[0] ?? 0);
          expect(admitted).toBeLessThanOrEqual(burst + Math.floor((limit * elapsed) / r.periodMs) + 1);
        },
      ),
    );
  });

  it("counts a reported batch as the same requests one at a time would, and never refuses it (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 50 }),
        (tat, now, count) => {
          let oneByOne = tat;
          for (let i = 0; i < count; i++) oneByOne = spent(rate, oneByOne, now, 1);
          expect(spent(rate, tat, now, count)).toBeCloseTo(oneByOne, 6);
          // Past the burst the key is refused until the debt is paid: a batch is never dropped.
          expect(spent(rate, tat, now, count)).toBeGreaterThanOrEqual(Math.max(tat, now) + count * 1000);
        },
      ),
    );
    // Five counted at once leave no room; the sixth waits one interval.
    const full = spent(rate, 0, 0, 5);
    expect(gcra(rate, full, 0)).toMatchObject({ allowed: false, retryAfterMs: 1000 });
  });
});

describe("rerated", () => {
  const now = 1_000_000;
  const hourly = (limit: number) => ({ limit, periodMs: 3_600_000, burst: Math.min(3, limit) });
  it("keeps what a key owes as requests at the new rate, in full", () => {
    // Three spent at 3/h (an hour ahead): at 50/h (burst 3) still three, 72 s each.
    expect(rerated(hourly(3), hourly(50), now + 3_600_000, now)).toBe(now + 3 * 72_000);
    // And back: three owed at 3/h is the hour again, so switching gains nothing.
    expect(rerated(hourly(50), hourly(3), now + 3 * 72_000, now)).toBe(now + 3_600_000);
    // One owed at one a day is one interval at 1,000 a minute.
    const daily = { limit: 1, periodMs: 86_400_000, burst: 1 };
    expect(rerated(daily, { limit: 1000, periodMs: 60_000, burst: 1000 }, now + 86_400_000, now)).toBe(now + 60);
    // Owed past the new bucket (a lowered limit, async reports) is kept in full, so raising it
    // again gives nothing back.
    expect(rerated(hourly(50), hourly(3), now + 50 * 72_000, now)).toBe(now + 50 * 1_200_000);
    expect(rerated(hourly(3), hourly(50), now + 50 * 1_200_000, now)).toBe(now + 50 * 72_000);
    // A key owing nothing stays as it is.
    expect(rerated(hourly(3), hourly(50), now - 5, now)).toBe(now - 5);
  });

  it("gives from a refusal's wait alone the time to full that the refusal itself gives", () => {
    // What the isolate's blocked-until cache keeps is the wait; its 429 must say the object's t.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1_000, max: 86_400_000 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: 1_000 }),
        (limit, periodMs, burst, extra) => {
          const r = { limit, periodMs, burst };
          const now = 5_000_000_000;
          const tat = now + (periodMs / limit) * (burst + extra); // past the burst: the next is refused
          const v = gcra(r, tat, now);
          expect(v.allowed).toBe(false);
          // Within the millisecond the wait was rounded up to (and float error).
          expect(Math.abs(resetAfterRefusal(r, v.retryAfterMs) - v.resetMs)).toBeLessThan(1.001);
        },
      ),
    );
  });
});
