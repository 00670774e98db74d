// A key's object re-counts what the key owes when the rate it is asked at changes (a tenant saved
// another setting, or isolates still holding the old one alternate with those holding the new).
// No sequence of rates may give the key back what it spent.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { rateLimiterOf } from "../../src/kernel/ratelimit/contract";

const wide = { limit: 100, periodMs: 60_000, burst: 100 };
const narrow = { limit: 10, periodMs: 60_000, burst: 10 };
const T = Date.now() + 86_400_000;

describe("RateLimiter, a changed rate", () => {
  it("never refills a spent bucket, however the rates alternate", async () => {
    const client = rateLimiterOf(env, `rerate:${crypto.randomUUID()}`);
    let admitted = 0;
    for (let i = 0; i < 100; i++) if ((await client.check({ rate: wide, now: T })).allowed) admitted++;
    expect(admitted).toBe(100);
    // Isolates holding either setting ask in turn, within the same minute: the spent hundred stay spent.
    for (let round = 0; round < 5; round++) {
      expect((await client.check({ rate: narrow, now: T + round })).allowed).toBe(false);
      expect((await client.check({ rate: wide, now: T + round })).allowed).toBe(false);
    }
  });

  it("counts async reports past the bucket as owed at any rate", async () => {
    const client = rateLimiterOf(env, `rerate:${crypto.randomUUID()}`);
    // Five hundred admitted on isolates' estimates: five minutes owed at 100 a minute.
    await client.record({ rate: wide, now: T, count: 500 });
    await client.check({ rate: narrow, now: T });
    // Three minutes on, two are still owed: back at the wide rate, nothing is admitted.
    expect((await client.check({ rate: wide, now: T + 180_000 })).allowed).toBe(false);
  });
});
