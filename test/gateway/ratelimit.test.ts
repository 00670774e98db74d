// The rate limiter over HTTP: exact under concurrency, its headers, 429s,
// per-tenant overrides, what happens when it cannot be reached, and the
// isolate's blocked-until cache.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { manualClock, systemClock } from "../../src/kernel/clock";
import { limiterStats } from "../../src/kernel/ratelimit/limiter";
import { type Answer, gateway, parseList, principalRecordsThrough } from "./helpers";

const sync = { mode: "sync", on_failure: "open" } as const;

describe("rate limits", () => {
  it("puts RateLimit-Policy and RateLimit on every /api/v1 response, errors included", async () => {
    // The tenant's and anonymous clients' policies at their defaults (the suite's are off). On a
    // clock that stands still: on the wall clock the bucket gains a token every 0.6 s, so a slow
    // second request would find as many left as the first.
    const { call, tenant } = gateway(
      {
        principal: { limit: 100, period_s: 60, burst: 10, ...sync },
        tenant: {},
        anonymous: {},
      },
      {},
      manualClock(systemClock.now().toISOString()),
    );
    const t = await tenant();
    const first = await call("/api/v1/me", { token: t.adminKey });
    expect(first.status).toBe(200);
    expect(parseList(first.headers.get("ratelimit-policy")).principal).toEqual({ q: 100, w: 60 });
    const before = parseList(first.headers.get("ratelimit")).principal;
    expect(before).toMatchObject({ r: 9 });
    const second = await call("/api/v1/me", { token: t.adminKey });
    expect(parseList(second.headers.get("ratelimit")).principal?.r).toBe(8);
    expect(parseList(second.headers.get("ratelimit")).tenant).toBeDefined();
    // A refused credential is counted against its client's address, and says so too.
    const bad = await call("/api/v1/me", { token: "plk_test_unknown" });
    expect(bad.status).toBe(401);
    expect(parseList(bad.headers.get("ratelimit")).anonymous).toBeDefined();
    // Outside /api/v1 nothing is limited.
    expect((await call("/healthz")).headers.get("ratelimit")).toBeNull();
  });

  it("refuses a body over the limit before the credential is looked at, counted against the client's address", async () => {
    // The address's bucket refills one token a day: a second 2 MiB upload cannot find it refilled.
    const { call, tenant } = gateway({
      principal: { limit: 100, period_s: 60, burst: 10, ...sync },
      anonymous: { limit: 1, period_s: 86_400, burst: 10, ...sync },
    });
    const t = await tenant();
    const body = { title: "big", content: "x".repeat(2 * 1024 * 1024) };
    const big = await call("/api/v1/blog/posts", { token: t.adminKey, body });
    expect(big.status).toBe(413);
    expect(big.body.code).toBe("payload_too_large");
    expect(big.headers.get("ratelimit-policy")).not.toBeNull();
    // Refused before authentication: the caller's address pays, not the key it sent.
    const decisions = parseList(big.headers.get("ratelimit"));
    expect(decisions.anonymous).toBeDefined();
    expect(decisions.principal).toBeUndefined();
    const again = await call("/api/v1/blog/posts", { token: t.adminKey, body });
    expect(parseList(again.headers.get("ratelimit")).anonymous?.r).toBeLessThan(Number(decisions.anonymous?.r));
  });

  it("admits exactly the limit from concurrent requests (sync), and refuses the rest with 429 and Retry-After", async () => {
    const { call, tenant } = gateway({ principal: { limit: 20, period_s: 3600, burst: 20, ...sync } });
    const t = await tenant();
    const answers = await Promise.all(Array.from({ length: 60 }, () => call("/api/v1/me", { token: t.adminKey })));
    const admitted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(admitted.length).toBe(20);
    expect(refused.length).toBe(40);
    const one = refused[0] as Answer;
    expect(one.headers.get("content-type")).toBe("application/problem+json");
    expect(one.body).toMatchObject({ code: "rate_limited", status: 429 });
    expect(Number(one.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(parseList(one.headers.get("ratelimit")).principal?.r).toBe(0);
  });

  it("applies a tenant's own limit from its settings, bounded by the platform's maximum", async () => {
    const { call, tenant } = gateway({
      principal: { limit: 1000, period_s: 60, burst: 1000, max_limit: 1000, ...sync },
    });
    const t = await tenant();
    const other = await tenant();
    const set = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { rate_limits: { principal: { limit: 3, period_s: 3600 } } },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await call("/api/v1/me", { token: t.adminKey })).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
    // Another tenant keeps the platform's limit.
    for (let i = 0; i < 5; i++) expect((await call("/api/v1/me", { token: other.adminKey })).status).toBe(200);
    const tooHigh = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: other.adminKey,
      body: { rate_limits: { principal: { limit: 5000, period_s: 60 } } },
    });
    expect(tooHigh.status).toBe(400);
  });

  it("keeps what a key has spent when the tenant changes its own limit: a new setting is no fresh budget", async () => {
    const { call, tenant } = gateway({
      principal: { limit: 1000, period_s: 60, burst: 1000, max_limit: 1000, ...sync },
    });
    const t = await tenant();
    const created = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "script", scopes: ["*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const script = String(created.body.key);
    const limit = async (n: number) =>
      (
        await call("/api/v1/admin/settings", {
          method: "PATCH",
          token: t.adminKey,
          body: { rate_limits: { principal: { limit: n, period_s: 3600 } } },
        })
      ).status;
    const burst = async () => {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await call("/api/v1/me", { token: script })).status);
      return statuses;
    };
    expect(await limit(3)).toBe(200);
    expect(await burst()).toEqual([200, 200, 200, 429]);
    // Four an hour (burst four) is one more request than the three spent, not a fresh four:
    // before, the bucket was named by its rate, so every change of setting started it full.
    expect(await limit(4)).toBe(200);
    expect(await burst()).toEqual([200, 429, 429, 429]);
    // And back to three: the four spent stay spent.
    expect(await limit(3)).toBe(200);
    expect(await burst()).toEqual([429, 429, 429, 429]);
  });

  // Sync: the key's object re-counts; async: the isolate's estimate must too (gcra.ts `rerated`).
  for (const mode of ["sync", "async"] as const) {
    it(`counts what a key owes in requests when the limit changes: raising a limit set too low ends its lockout (${mode})`, async () => {
      const { call, tenant } = gateway({
        principal: { limit: 1000, period_s: 60, burst: 1000, max_limit: 1000, ...sync, mode },
      });
      const t = await tenant();
      const keyOf = async (name: string) =>
        String((await call("/api/v1/admin/api-keys", { token: t.adminKey, body: { name, scopes: ["*"] } })).body.key);
      const script = await keyOf("script");
      // A second admin key, unspent, to save the fix: the lowered limit holds the first as well.
      const fixer = await keyOf("fixer");
      const setLimit = async (limit: number, period_s: number, token = t.adminKey) =>
        (
          await call("/api/v1/admin/settings", {
            method: "PATCH",
            token,
            body: { rate_limits: { principal: { limit, period_s } } },
          })
        ).status;
      const me = async () => (await call("/api/v1/me", { token: script })).status;
      // One a day: the key owes a day after its one request.
      expect(await setLimit(1, 86_400)).toBe(200);
      expect([await me(), await me()]).toEqual([200, 429]);
      // Back to 1,000 a minute: it owes one request, a 60 ms interval, not the day it owed in time.
      expect(await setLimit(1000, 60, fixer)).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect([await me(), await me(), await me()]).toEqual([200, 200, 200]);
    });
  }

  it("a policy that is off admits every request without the limiter, and is left out of the headers", async () => {
    const setup = gateway();
    const t = await setup.tenant();
    const asked: string[] = [];
    const counting = {
      getByName: (name: string) => {
        asked.push(name.split(":")[0] ?? "");
        return env.RATE_LIMITER.getByName(name);
      },
    };
    const { call } = gateway(
      {
        principal: { limit: 1, period_s: 3600, burst: 1, mode: "off" },
        tenant: { limit: 1, period_s: 3600, burst: 1, ...sync },
      },
      { RATE_LIMITER: counting },
    );
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await call("/api/v1/me", { token: t.adminKey }));
    // The tenant policy (on, one request an hour) admits the first and refuses the rest; the
    // principal policy (off, the same numbers) never refuses and is never asked.
    expect(statuses.map((a) => a.status)).toEqual([200, 429, 429]);
    expect(statuses.map((a) => a.body.code)).toEqual([undefined, "rate_limited", "rate_limited"]);
    expect(String(statuses[1]?.body.detail)).toContain("(tenant)");
    expect(asked).not.toContain("principal");
    expect(asked).toContain("tenant");
    const policies = parseList(statuses[0]?.headers.get("ratelimit-policy") ?? null);
    expect(Object.keys(policies)).toEqual(["tenant"]);
    // A policy named in RATE_LIMITS without a mode keeps its default one (the suite's are off).
    const named = gateway({ principal: { limit: 100, period_s: 60, burst: 10 } });
    const first = await named.call("/api/v1/me", { token: t.adminKey });
    expect(parseList(first.headers.get("ratelimit-policy")).principal).toEqual({ q: 100, w: 60 });
  });

  it("fails open or closed as the policy says when the limiter cannot be reached, and logs which", async () => {
    const broken = {
      getByName: () => ({
        check: async () => {
          throw new Error("limiter down");
        },
        record: async () => {
          throw new Error("limiter down");
        },
      }),
    };
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const setup = gateway({ principal: { limit: 1000, period_s: 60, burst: 1000, ...sync } });
    const t = await setup.tenant();
    const open = gateway(
      { principal: { limit: 1000, period_s: 60, burst: 1000, mode: "sync", on_failure: "open" } },
      {
        RATE_LIMITER: broken,
      },
    );
    expect((await open.call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    const closed = gateway(
      { principal: { limit: 1000, period_s: 60, burst: 1000, mode: "sync", on_failure: "closed" } },
      { RATE_LIMITER: broken },
    );
    const refused = await closed.call("/api/v1/me", { token: t.adminKey });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe("unavailable");
    expect(refused.headers.get("retry-after")).toBe("1");
    const lines = warn.mock.calls.map(([line]) => String(line));
    expect(lines.some((l) => l.includes("failing open"))).toBe(true);
    expect(lines.some((l) => l.includes("failing closed"))).toBe(true);
    warn.mockRestore();
  });

  it("answers a key known to be over its limit from the isolate's cache, without asking its Durable Object", async () => {
    let checks = 0;
    const counting = {
      getByName: (name: string) => {
        const stub = env.RATE_LIMITER.getByName(name);
        return {
          check: (args: Parameters<typeof stub.check>[0]) => {
            if (name.startsWith("principal:")) checks++;
            return stub.check(args);
          },
          record: (args: Parameters<typeof stub.record>[0]) => stub.record(args),
        };
      },
    };
    const { call, tenant } = gateway(
      { principal: { limit: 2, period_s: 3600, burst: 2, ...sync } },
      {
        RATE_LIMITER: counting,
      },
    );
    const t = await tenant();
    for (let i = 0; i < 2; i++) expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(429);
    const asked = checks;
    for (let i = 0; i < 5; i++) expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(429);
    expect(checks).toBe(asked);
  });
});

describe("async policies", () => {
  /** The real RateLimiter objects, with every `record` call on a principal's object counted. */
  function counting() {
    const seen = { calls: 0, recorded: 0, names: new Set<string>() };
    const binding = {
      getByName: (name: string) => {
        const stub = env.RATE_LIMITER.getByName(name);
        return {
          check: (args: Parameters<typeof stub.check>[0]) => stub.check(args),
          // Counted once the object answered: a test that waits for a report must see it applied,
          // or its own direct record() can overtake the report on the way to the object.
          record: async (args: Parameters<typeof stub.record>[0]) => {
            const verdict = await stub.record(args);
            if (name.startsWith("principal:")) {
              seen.names.add(name);
              seen.calls++;
              seen.recorded += args.count;
            }
            return verdict;
          },
        };
      },
    };
    return { seen, binding };
  }
  /** Waits for `done` (at most 5 s, then fails: a wait that gives up silently hides a race). */
  const settled = async (done: () => boolean) => {
    for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(done()).toBe(true);
  };

  it("decide from the isolate's estimate at once and report to the key's Durable Object after the response", async () => {
    const { seen, binding } = counting();
    const { call, tenant } = gateway(
      { principal: { limit: 5, period_s: 3600, burst: 5, mode: "async" } },
      { RATE_LIMITER: binding },
    );
    const t = await tenant();
    const before = limiterStats.asyncDecisions;
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await call("/api/v1/me", { token: t.adminKey })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    expect(limiterStats.asyncDecisions - before).toBeGreaterThanOrEqual(5);
    // Every admitted request reaches the object, and only those: refused ones never do.
    await settled(() => seen.recorded >= 5);
    expect(seen.recorded).toBe(5);
  });

  const rate = { limit: 1000, periodMs: 3_600_000, burst: 1000 };

  it("report a busy key's admissions together: fewer object calls than requests, none of them lost", async () => {
    const { seen, binding } = counting();
    // On a clock that stands still: at 1000 an hour the key's bucket gains a request every 3.6 s
    // on the wall clock, so a machine slower than that between the first report and the count below finds 960.
    const clock = manualClock(systemClock.now().toISOString());
    const { call, tenant } = gateway(
      { principal: { limit: 1000, period_s: 3600, burst: 1000, mode: "async" } },
      { RATE_LIMITER: binding },
      clock,
    );
    const t = await tenant();
    const answers = await Promise.all(Array.from({ length: 40 }, () => call("/api/v1/me", { token: t.adminKey })));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await settled(() => seen.recorded >= 40);
    expect(seen.recorded).toBe(40);
    expect(seen.calls).toBeLessThan(40);
    // The object counted all forty: at the same rate, the next request leaves 959 of the 1000.
    const [name] = [...seen.names];
    const next = await env.RATE_LIMITER.getByName(String(name)).check({ rate, now: clock.now().getTime(), cost: 1 });
    expect(next.allowed).toBe(true);
    expect(next.remaining).toBe(959);
  });

  it("block the key in an isolate that admitted more than its share, once the object says so", async () => {
    const { seen, binding } = counting();
    const { call, tenant } = gateway(
      { principal: { limit: 3, period_s: 3600, burst: 3, mode: "async" } },
      { RATE_LIMITER: binding },
    );
    const t = await tenant();
    expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    await settled(() => seen.recorded >= 1);
    // Another isolate admitted two more of the key's requests and reported them.
    const [name] = [...seen.names];
    const small = { limit: 3, periodMs: 3_600_000, burst: 3 };
    await env.RATE_LIMITER.getByName(String(name)).record({ rate: small, now: Date.now(), count: 2 });
    // This isolate's estimate still has room, so it admits one more; its report comes back over the limit.
    const before = limiterStats.asyncOverAdmitted;
    expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    await settled(() => limiterStats.asyncOverAdmitted > before);
    expect(limiterStats.asyncOverAdmitted).toBe(before + 1);
    const refused = await call("/api/v1/me", { token: t.adminKey });
    expect(refused.status).toBe(429);
    // Four counted at one per 1200 s with room for three: the next fits in 2400 s.
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(2300);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(2400);
  });

  it("keep the count of a report that failed and send it with the key's next one", async () => {
    let failNext = true;
    const counted: number[] = [];
    const flaky = principalRecordsThrough((args) => {
      if (failNext) {
        failNext = false;
        throw new Error("limiter down");
      }
      counted.push(args.count);
    });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { call, tenant } = gateway(
      { principal: { limit: 100, period_s: 3600, burst: 100, mode: "async" } },
      { RATE_LIMITER: flaky },
    );
    const t = await tenant();
    expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    await settled(() => !failNext);
    await new Promise((r) => setTimeout(r, 50));
    expect((await call("/api/v1/me", { token: t.adminKey })).status).toBe(200);
    await settled(() => counted.length > 0);
    expect(counted).toEqual([2]);
    expect(warn.mock.calls.some(([line]) => String(line).includes("async counts kept"))).toBe(true);
    warn.mockRestore();
  });
});
