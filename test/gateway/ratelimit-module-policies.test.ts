// A module's own rate-limit policy (ModuleDef.rate_limits): declared by the module, checked by
// the registry, charged by its routes with the kernel's `enforce`, and changed by `RATE_LIMITS`
// and a tenant's settings as the kernel's are. Before, the policies were the kernel's fixed
// list: a module could not declare one (the field was ignored), `enforce` could not name one,
// and `RATE_LIMITS` naming one answered every request 500 config_invalid.
import { env } from "cloudflare:workers";
import { type BareItem, parseList as parseSfList } from "structured-headers";
import { describe, expect, it, vi } from "vitest";
import { principalOf } from "../../src/kernel/auth/guards";
import { KERNEL_NEEDS, parseConfig } from "../../src/kernel/config";
import { ModuleRegistryError, resolveModules } from "../../src/kernel/modules/registry";
import type { EnvNeeds, ModuleDef } from "../../src/kernel/modules/types";
import { createRouter } from "../../src/kernel/openapi/router";
import { enforce } from "../../src/kernel/ratelimit/limiter";
import { type Policy, policiesOff } from "../../src/kernel/ratelimit/policies";
import { modules } from "../../src/modules";
import { expectProblem, testApp } from "../helpers";
import { callerOf, newTenant, newUser } from "../identity/helpers";
import { parseList, TICKETS_OPEN } from "./helpers";

const OPEN = TICKETS_OPEN;

/** A help desk: each user opens at most 3 tickets an hour; the desk's shared inbox is one key per tenant. */
const tickets = (rate_limits: Record<string, Policy> = { "tickets.open": OPEN }): ModuleDef => ({
  name: "tickets",
  version: "1.0.0",
  rate_limits,
  routes: createRouter()
    .post("/", async (c) => {
      await enforce(c, "tickets.open", principalOf(c, "user").id);
      return c.json({ opened: true }, 201);
    })
    // Keyed by a name the route chooses; the kernel puts the tenant before it.
    .post("/inbox", async (c) => {
      await enforce(c, "tickets.open", "inbox");
      return c.json({ opened: true }, 201);
    }),
});

/** The platform with the tickets module, the suite's policies (every kernel one off) and `limits` on top. */
function platform(limits: Record<string, Partial<Policy>> = {}, mods: ModuleDef[] = [...modules, tickets()]) {
  const current = JSON.parse(String(env.RATE_LIMITS)) as Record<string, Partial<Policy>>;
  const app = testApp(mods, { RATE_LIMITS: JSON.stringify({ ...current, ...limits }) });
  return { app, call: callerOf((path, init) => app.fetch(`http://plinth.test${path}`, init)) };
}

const open = (call: ReturnType<typeof platform>["call"], token: string, path = "/api/v1/tickets") =>
  call(path, { method: "POST", token });

describe("a module's own rate-limit policy", () => {
  it("refuses a user's 4th ticket in the hour with the contract's 429 and headers; another user opens theirs", async () => {
    const { app, call } = platform();
    const t = await newTenant("tk-user");
    const ada = await newUser(t.slug);
    const bob = await newUser(t.slug);
    for (let i = 0; i < 3; i++) {
      const ok = await open(call, ada.access_token);
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);
      expect(parseList(ok.headers.get("ratelimit-policy"))["tickets.open"]).toEqual({ q: 3, w: 3600 });
      expect(parseList(ok.headers.get("ratelimit"))["tickets.open"]?.r).toBe(2 - i);
    }
    const refused = await app.fetch("http://plinth.test/api/v1/tickets", {
      method: "POST",
      headers: { authorization: `Bearer ${ada.access_token}` },
    });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(parseList(refused.headers.get("ratelimit-policy"))["tickets.open"]).toEqual({ q: 3, w: 3600 });
    expect(parseList(refused.headers.get("ratelimit"))["tickets.open"]?.r).toBe(0);
    const problem = await expectProblem(refused, 429, "rate_limited");
    expect(problem.detail).toContain("tickets.open");

    const other = await open(call, bob.access_token);
    expect(other.status).toBe(201);
    expect(parseList(other.headers.get("ratelimit"))["tickets.open"]?.r).toBe(2);
  });

  it("counts a key a route names per tenant: one tenant's spent budget leaves another's whole", async () => {
    const { call } = platform();
    const a = await newTenant("tk-a");
    const b = await newTenant("tk-b");
    const [ada, bea] = [await newUser(a.slug), await newUser(b.slug)];
    for (let i = 0; i < 3; i++) expect((await open(call, ada.access_token, "/api/v1/tickets/inbox")).status).toBe(201);
    expect((await open(call, ada.access_token, "/api/v1/tickets/inbox")).status).toBe(429);
    const other = await open(call, bea.access_token, "/api/v1/tickets/inbox");
    expect(other.status).toBe(201);
    expect(parseList(other.headers.get("ratelimit"))["tickets.open"]?.r).toBe(2);
  });

  it("takes RATE_LIMITS naming the module's policy, and refuses one naming a policy nobody declares", async () => {
    const { call } = platform({ "tickets.open": { limit: 1, burst: 1 } });
    const t = await newTenant("tk-env");
    const ada = await newUser(t.slug);
    const first = await open(call, ada.access_token);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(parseList(first.headers.get("ratelimit-policy"))["tickets.open"]).toEqual({ q: 1, w: 3600 });
    expect((await open(call, ada.access_token)).status).toBe(429);

    vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (const mods of [
      [...modules, tickets()], // a module's namespace, a policy it does not declare
      [...modules], // the module's policy, the module not registered
    ]) {
      const { app } = platform({ "tickets.close": { limit: 1 } }, mods);
      const body = await expectProblem(await app.fetch("http://plinth.test/healthz"), 500, "config_invalid");
      expect(body.detail).toBe("the server's configuration is invalid: RATE_LIMITS");
    }
  });

  it("takes a module's name only where the needs declare it: the kernel's needs alone refuse it", () => {
    // One way: every caller loads the config with the platform's needs (off the request path too:
    // ratelimit-module-policies-off-path.test.ts), so no caller passes a module-shaped name over.
    const withNames = (limits: Record<string, unknown>, needs?: EnvNeeds) =>
      parseConfig({ ...env, RATE_LIMITS: JSON.stringify(limits) }, needs);
    const declaring: EnvNeeds = { ...KERNEL_NEEDS, ratePolicies: { "tickets.open": OPEN } };
    expect(withNames({ "tickets.open": { limit: 1 } }, declaring).ok).toBe(true);
    expect(withNames({ "tickets.open": { limit: 1 } })).toEqual({
      ok: false,
      issues: [{ variable: "RATE_LIMITS", message: expect.stringContaining("may name only these policies") }],
    });
    expect(withNames({ "tickets.open": { limit: 0 } }, declaring).ok).toBe(false);
    expect(withNames({ bogus: { limit: 1 } }, declaring).ok).toBe(false);
  });

  it("refuses a module's policy charged from another module's route: 500, nothing counted against the owner's budget", async () => {
    // A help desk module reaching for the tickets module's budget: a programming error, as an
    // undeclared name is, refused before any bucket is touched.
    const desk: ModuleDef = {
      name: "desk",
      version: "1.0.0",
      routes: createRouter().post("/", async (c) => {
        await enforce(c, "tickets.open", principalOf(c, "user").id);
        return c.json({ opened: true }, 201);
      }),
    };
    const { app, call } = platform({}, [...modules, tickets(), desk]);
    const t = await newTenant("tk-desk");
    const ada = await newUser(t.slug);
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (let i = 0; i < 4; i++) {
      const res = await app.fetch("http://plinth.test/api/v1/desk", {
        method: "POST",
        headers: { authorization: `Bearer ${ada.access_token}` },
      });
      await expectProblem(res, 500, "internal");
    }
    const own = await open(call, ada.access_token);
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(parseList(own.headers.get("ratelimit"))["tickets.open"]?.r).toBe(2);
  });

  it("is off with the kernel's under policiesOff(modules), as a module's own tests run it", async () => {
    const mods = [...modules, tickets()];
    const { fetch } = testApp(mods, { RATE_LIMITS: JSON.stringify(policiesOff(mods)) });
    const call = callerOf((path, init) => fetch(`http://plinth.test${path}`, init));
    const t = await newTenant("tk-off");
    const ada = await newUser(t.slug);
    for (let i = 0; i < 5; i++) {
      const opened = await open(call, ada.access_token);
      expect(opened.status, JSON.stringify(opened.body)).toBe(201);
      // Off keeps no limiter state and sends no header item for it.
      expect(parseList(opened.headers.get("ratelimit-policy"))["tickets.open"]).toBeUndefined();
    }
  });

  it("takes a tenant's own limit up to max_limit and refuses one above it", async () => {
    const { call } = platform();
    const t = await newTenant("tk-own");
    const ada = await newUser(t.slug);
    const set = (limit: number) =>
      call("/api/v1/admin/settings", {
        method: "PATCH",
        token: t.adminKey,
        body: { rate_limits: { "tickets.open": { limit, period_s: 3600 } } },
      });
    const above = await set(11);
    expect(above.status).toBe(400);
    // The policy's name is one key: bracketed, so `tickets.open` is not read as keys `tickets` and `open`.
    expect(above.body.errors).toEqual([
      { path: 'body.rate_limits["tickets.open"].limit', message: "at most 10 per 3600 s" },
    ]);
    // zod's own refusal of the entry names it the same way, in the same 400 as the policy checks.
    const malformed = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: {
        rate_limits: { "tickets.open": { limit: "many", period_s: 3600 }, "tickets.shut": { limit: 1, period_s: 60 } },
      },
    });
    expect(malformed.status).toBe(400);
    expect((malformed.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
      'body.rate_limits["tickets.open"].limit',
      'body.rate_limits["tickets.shut"]',
    ]);
    const lowered = await set(1);
    expect(lowered.status, JSON.stringify(lowered.body)).toBe(200);
    const first = await open(call, ada.access_token);
    expect(parseList(first.headers.get("ratelimit-policy"))["tickets.open"]).toEqual({ q: 1, w: 3600 });
    expect((await open(call, ada.access_token)).status).toBe(429);
  });

  it("is refused by the registry outside the module's namespace or named as a kernel policy, with the others", () => {
    const bad = tickets({
      "tickets.open": OPEN,
      "desk.open": OPEN,
      login: OPEN,
      "tickets.many": { ...OPEN, limit: 0 },
    });
    let thrown: unknown;
    try {
      resolveModules([...modules, bad]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ModuleRegistryError);
    expect((thrown as ModuleRegistryError).problems).toEqual([
      {
        module: "tickets",
        problem: `rate-limit policy "desk.open" must be "tickets.<name>" (the name: a-z, 0-9 and '_', starting with a letter)`,
      },
      { module: "tickets", problem: `rate-limit policy "login" is the kernel's: charge it without declaring it` },
      { module: "tickets", problem: `rate-limit policy "tickets.many" limit: Too small: expected number to be >=1` },
    ]);
  });

  it("is refused by the registry for a name a header string, a metrics label or a problem would need escaped", () => {
    // The name goes unescaped into RateLimit-Policy's sf-strings and the problem's detail (the
    // metrics label is escaped: test/node/metrics-labels-promtool.test.ts): the registry's charset keeps them sound.
    const names = [
      'tickets.a"b',
      "tickets.a\\b",
      "tickets.a\nb",
      "tickets.open\n",
      "tickets.a,b",
      "tickets.a;q=1",
      "tickets.a b",
      "tickets.\u00e9t\u00e9",
      "tickets.Open",
      "tickets.",
      "tickets._open",
      `tickets.${"a".repeat(64)}`,
    ];
    let thrown: unknown;
    try {
      resolveModules([
        ...modules,
        tickets({ "tickets.open": OPEN, ...Object.fromEntries(names.map((n) => [n, OPEN])) }),
      ]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ModuleRegistryError);
    expect((thrown as ModuleRegistryError).problems.map((p) => p.problem)).toEqual(
      names.map(
        (n) => `rate-limit policy "${n}" must be "tickets.<name>" (the name: a-z, 0-9 and '_', starting with a letter)`,
      ),
    );
  });

  it("writes RateLimit-Policy and RateLimit that an RFC 8941 parser reads back, for every character a name may hold", async () => {
    // Checked with structured-headers, a parser written apart from plinth: the longest module
    // name and policy name the registry allows, with each of '-', '_' and the digits.
    const name = `h-d2${"x".repeat(59)}.o_9${"p".repeat(60)}`;
    const desk: ModuleDef = {
      name: name.split(".")[0] ?? "",
      version: "1.0.0",
      rate_limits: { [name]: OPEN },
      routes: createRouter().post("/", async (c) => {
        await enforce(c, name as `${string}.${string}`, "inbox");
        return c.json({ opened: true }, 201);
      }),
    };
    const { app } = platform({}, [...modules, desk]);
    const t = await newTenant("tk-sf");
    const res = await app.fetch(`http://plinth.test/api/v1/${desk.name}`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}` },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const itemOf = (header: string) => {
      const found = parseSfList(header).find(([value]) => value === name);
      if (!found) throw new Error(`no sf-string item ${name} in ${header}`);
      const [, params] = found as [BareItem, Map<string, BareItem>];
      return Object.fromEntries(params);
    };
    expect(itemOf(res.headers.get("ratelimit-policy") ?? "")).toEqual({ q: 3, w: 3600 });
    expect(itemOf(res.headers.get("ratelimit") ?? "")).toMatchObject({ r: 2 });
  });

  it("refuses a tenant's own limit for a policy without tenant_override, and one over max_limit's rate at any period", async () => {
    const { call } = platform({}, [
      ...modules,
      tickets({ "tickets.open": OPEN, "tickets.close": { ...OPEN, tenant_override: false } }),
    ]);
    const t = await newTenant("tk-deny");
    const set = (rate_limits: Record<string, { limit: number; period_s: number }>) =>
      call("/api/v1/admin/settings", { method: "PATCH", token: t.adminKey, body: { rate_limits } });
    const closed = await set({ "tickets.close": { limit: 1, period_s: 3600 } });
    expect(closed.status).toBe(400);
    const [refused] = closed.body.errors as { path: string; message: string }[];
    expect(refused?.path).toBe('body.rate_limits["tickets.close"]');
    expect(refused?.message).toMatch(/^not a policy a tenant may set; one of .*tickets\.open/);
    expect(refused?.message).not.toContain("tickets.close");
    // max_limit is a rate (10 an hour): a day allows 240, and under 360 s not even one.
    const dayOver = await set({ "tickets.open": { limit: 241, period_s: 86_400 } });
    expect(dayOver.body.errors).toEqual([
      { path: 'body.rate_limits["tickets.open"].limit', message: "at most 240 per 86400 s" },
    ]);
    const short = await set({ "tickets.open": { limit: 1, period_s: 359 } });
    expect(short.body.errors).toEqual([
      { path: 'body.rate_limits["tickets.open"].limit', message: "at most 0 per 359 s" },
    ]);
    expect((await set({ "tickets.open": { limit: 240, period_s: 86_400 } })).status).toBe(200);
  });

  it("leaves out a saved limit the operator no longer lets tenants set, and clamps one above a lowered max_limit", async () => {
    const t = await newTenant("tk-later");
    const { call } = platform();
    const saved = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { rate_limits: { "tickets.open": { limit: 10, period_s: 3600 } } },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const policyOn = async (limits: Record<string, Partial<Policy>>) => {
      const ada = await newUser(t.slug);
      const res = await open(platform(limits).call, ada.access_token);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return parseList(res.headers.get("ratelimit-policy"))["tickets.open"];
    };
    expect(await policyOn({})).toEqual({ q: 10, w: 3600 });
    expect(await policyOn({ "tickets.open": { tenant_override: false } })).toEqual({ q: 3, w: 3600 });
    expect(await policyOn({ "tickets.open": { max_limit: 5 } })).toEqual({ q: 5, w: 3600 });
  });

  it("keeps a saved limit under a lowered max_limit when its period is too short to hold one request of it", async () => {
    // 1 per 360 s is the 10-an-hour ceiling; lowered to 5 an hour, 360 s holds half a request.
    // The floor of 1 lifted that half to a whole one: 10 an hour, twice what the operator allows.
    const t = await newTenant("tk-short");
    const saved = await platform().call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { rate_limits: { "tickets.open": { limit: 1, period_s: 360 } } },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    const ada = await newUser(t.slug);
    const res = await open(platform({ "tickets.open": { max_limit: 5 } }).call, ada.access_token);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const policy = parseList(res.headers.get("ratelimit-policy"))["tickets.open"];
    expect((policy?.q ?? 0) / (policy?.w ?? 1)).toBeLessThanOrEqual(5 / 3600);
    expect(policy).toEqual({ q: 5, w: 3600 });
  });
});
