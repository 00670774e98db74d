// What a script reads from a 429's RateLimit header: `t` is the seconds until the bucket is full
// (docs/gateway.md), whichever part of the limiter refused the request. The first refusal comes
// from the key's object (or, async, the isolate's estimate); the next ones from the isolate's
// blocked-until cache, which used to answer `t` = Retry-After: a key that needs an hour to refill
// said t=3600 on one 429 and t=1800 on the next, with nothing spent in between.
import { describe, expect, it } from "vitest";
import { manualClock, systemClock } from "../../src/kernel/clock";
import { gateway, parseList } from "./helpers";

describe("a refused request's RateLimit header", () => {
  it.each(["sync", "async"] as const)(
    "gives the same t and Retry-After on every 429 while the clock stands (%s)",
    async (mode) => {
      // Two an hour, both at once: one token every 30 minutes, full an hour after two are spent.
      const clock = manualClock(systemClock.now().toISOString());
      const { call, tenant } = gateway(
        { principal: { limit: 2, period_s: 3600, burst: 2, mode, on_failure: "open" } },
        {},
        clock,
      );
      const t = await tenant();
      for (let i = 0; i < 2; i++) expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
      const refusals = [];
      for (let i = 0; i < 3; i++) refusals.push(await call("/api/v1/me", { token: t.adminKey }));
      for (const refused of refusals) {
        expect(refused.status).toBe(429);
        expect(refused.headers.get("retry-after")).toBe("1800");
        expect(parseList(refused.headers.get("ratelimit")).principal).toEqual({ r: 0, t: 3600 });
      }
      // Ten minutes on, the cache's answer has moved with the clock, as the object's would have.
      clock.advance(600_000);
      const later = await call("/api/v1/me", { token: t.adminKey });
      expect(later.headers.get("retry-after")).toBe("1200");
      expect(parseList(later.headers.get("ratelimit")).principal).toEqual({ r: 0, t: 3000 });
    },
  );

  it.each(["sync", "async"] as const)(
    "gives the same t on every 429 of concurrent guesses from one address (%s)",
    async (mode) => {
      // Three an hour, three at once. Six guesses at once: three are looked up (401), the other three
      // are refused while those are under way, which used to say t=1200 (one interval: the wait)
      // where the 429s once the three were charged said 3600.
      const clock = manualClock(systemClock.now().toISOString());
      const { call } = gateway(
        { auth_failures: { limit: 3, period_s: 3600, burst: 3, mode, on_failure: "open" } },
        {},
        clock,
      );
      const ip = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.7`;
      const guess = () =>
        call("/api/v1/me", {
          token: `plk_test_${crypto.randomUUID().replaceAll("-", "")}`,
          headers: { "cf-connecting-ip": ip },
        });
      const answers = await Promise.all(Array.from({ length: 6 }, guess));
      answers.push(await guess(), await guess());
      const refused = answers.filter((a) => a.status === 429);
      expect(refused.length).toBeGreaterThanOrEqual(3);
      for (const a of refused) expect(parseList(a.headers.get("ratelimit")).auth_failures).toEqual({ r: 0, t: 3600 });
    },
  );
});
