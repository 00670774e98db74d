// A RateLimiter object per limited key (an IP, an API key) is made without end: each must
// delete its storage once its key is idle again, or storage grows with every client ever seen.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { FORGET_AFTER_MS, type RateLimiter } from "../../durable-objects/rate-limiter";
import { rateLimiterOf } from "../../src/kernel/ratelimit/contract";
import { rateLimiterClock } from "../object-clocks";

const rate = { limit: 10, periodMs: 1000, burst: 10 };
// A day ahead of the runtime's clock, so no alarm fires by itself during a test (an alarm due in
// the past fires at once): each one runs through runDurableObjectAlarm, with the object's clock
// (the test Worker builds RateLimiter over rateLimiterClock) set to the time it is given.
const T = Date.now() + 86_400_000;

/** The key's object, its typed client, and a look at what it stores, with the alarm's clock set to `at`. */
function limiter() {
  const key = `forget:${crypto.randomUUID()}`;
  const stub = env.RATE_LIMITER.getByName(key);
  const stored = (clockAt?: number) =>
    runInDurableObject(stub, async (_: RateLimiter, state) => {
      if (clockAt !== undefined) rateLimiterClock.set(new Date(clockAt));
      return {
        tat: state.storage.kv.get<number>("tat") ?? null,
        // The TAT and the rate it was counted at.
        keys: [...state.storage.kv.list()].length,
        alarm: await state.storage.getAlarm(),
      };
    });
  return { stub, client: rateLimiterOf(env, key), stored };
}

describe("RateLimiter storage", () => {
  afterEach(() => rateLimiterClock.release());

  it("is deleted by the key's alarm once its TAT has passed, and not before; the key then starts afresh", async () => {
    const { stub, client, stored } = limiter();
    for (let i = 0; i < 3; i++) expect((await client.check({ rate, now: T })).allowed).toBe(true);
    const tat = T + 300;
    // One alarm for the busy spell, set by its first request.
    expect(await stored()).toEqual({ tat, keys: 2, alarm: T + 100 + FORGET_AFTER_MS });

    // The alarm fires while the TAT (plus the margin) is still ahead: kept, and looked at again then.
    await stored(T + 100 + FORGET_AFTER_MS);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stored()).toEqual({ tat, keys: 2, alarm: tat + FORGET_AFTER_MS });

    // Once it has passed: nothing is left, not even an alarm.
    await stored(tat + FORGET_AFTER_MS);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stored()).toEqual({ tat: null, keys: 0, alarm: null });

    // The key returns: a full bucket, as for a key never seen, and the alarm is set again.
    const later = tat + 2 * FORGET_AFTER_MS;
    const verdict = await client.check({ rate, now: later });
    expect(verdict).toMatchObject({ allowed: true, remaining: rate.burst - 1 });
    expect(await stored()).toEqual({ tat: later + 100, keys: 2, alarm: later + 100 + FORGET_AFTER_MS });
  });

  it("counts reported admissions (async policies) the same way: stored, then forgotten once idle", async () => {
    const { stub, client, stored } = limiter();
    const reply = await client.record({ rate, now: T, count: 5 });
    expect(reply.tat).toBe(T + 500);
    expect(await stored()).toEqual({ tat: T + 500, keys: 2, alarm: T + 500 + FORGET_AFTER_MS });
    await stored(T + 500 + FORGET_AFTER_MS);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stored()).toEqual({ tat: null, keys: 0, alarm: null });
  });

  it("a refused request changes nothing it stores", async () => {
    const { client, stored } = limiter();
    for (let i = 0; i < rate.burst; i++) expect((await client.check({ rate, now: T })).allowed).toBe(true);
    const before = await stored();
    expect((await client.check({ rate, now: T })).allowed).toBe(false);
    expect(await stored()).toEqual(before);
  });

  it("a restore gives a spent key its whole bucket, stored with the alarm that forgets it", async () => {
    const { client, stored } = limiter();
    for (let i = 0; i < rate.burst; i++) expect((await client.check({ rate, now: T })).allowed).toBe(true);
    expect((await client.check({ rate, now: T })).allowed).toBe(false);
    expect(await client.restore({ rate, now: T + 1 })).toMatchObject({ remaining: rate.burst, resetMs: 0 });
    expect(await stored()).toMatchObject({ tat: T + 1, keys: 2 });
    expect((await client.check({ rate, now: T + 1 })).remaining).toBe(rate.burst - 1);
  });

  it("a refund, a restore or a refused check on a key never seen stores nothing, so nothing is left without an alarm", async () => {
    const refund = limiter();
    expect(await refund.client.refund({ rate, now: T, count: 1 })).toMatchObject({ remaining: rate.burst });
    expect(await refund.stored()).toEqual({ tat: null, keys: 0, alarm: null });

    // A restore (a completed password reset) too: nothing to give back, nothing stored.
    const restore = limiter();
    expect(await restore.client.restore({ rate, now: T })).toMatchObject({ remaining: rate.burst });
    expect(await restore.stored()).toEqual({ tat: null, keys: 0, alarm: null });

    // More than the bucket holds: refused before anything is admitted.
    const refused = limiter();
    expect((await refused.client.check({ rate, now: T, cost: rate.burst + 1 })).allowed).toBe(false);
    expect(await refused.stored()).toEqual({ tat: null, keys: 0, alarm: null });
  });
});
