import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { MIGRATION_TABLES, MIGRATIONS } from "../../src/generated/migrations";
import { type Clock, systemClock } from "../../src/kernel/clock";
import type { Policy, PolicyName } from "../../src/kernel/ratelimit/policies";
import { realSleeper, type Sleeper } from "../../src/kernel/resilience/sleep";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";

type Json = Record<string, unknown>;

/** A response as the tests read it. */
export interface Answer {
  status: number;
  body: Json;
  headers: Headers;
}

/**
 * The whole platform in-process, with the rate-limit policies the test names
 * (the others as generous as the suite's) and any other env overrides.
 */
export function gateway(
  limits: Partial<Record<PolicyName, Partial<Policy>>> = {},
  overrides: Record<string, unknown> = {},
  clock: Clock = systemClock,
  sleeper: Sleeper = realSleeper,
) {
  // A named policy starts from its default (the suite's are off), so it limits in its default mode unless the test says.
  const current = JSON.parse(String(env.RATE_LIMITS)) as Record<string, Partial<Policy>>;
  const merged = { ...current, ...limits };
  const app = testApp(
    modules,
    { RATE_LIMITS: JSON.stringify(merged), ...overrides },
    MIGRATIONS,
    clock,
    MIGRATION_TABLES,
    sleeper,
  );
  const suite = { call: (path: string, init: Parameters<typeof call>[1]) => call(path, init, testApp(modules)) };

  async function call(
    path: string,
    init: { method?: string; token?: string; tenant?: string; body?: unknown; headers?: Record<string, string> } = {},
    via: { fetch: (url: string, init?: RequestInit) => Response | Promise<Response> } = app,
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.tenant) headers["x-tenant"] = init.tenant;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const url = path.startsWith("http") ? path : `http://plinth.test${path}`;
    const res = await via.fetch(url, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
  }

  /** A new tenant (made through the suite's own platform, so it counts against no limit of the test's). */
  async function tenant(prefix = "gw"): Promise<{ id: string; slug: string; adminKey: string }> {
    const slug = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
    const res = await suite.call("/api/v1/platform/tenants", {
      token: String(env.PLATFORM_ROOT_KEY),
      body: { slug, name: slug },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { id: String(res.body.id), slug, adminKey: String(res.body.admin_key) };
  }

  return { call, tenant };
}

/** Parses `RateLimit` / `RateLimit-Policy` (draft-08 lists of `"name";k=v;…`) into { name: { k: v } }. */
export function parseList(header: string | null): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const item of (header ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, ...params] = item.split(";");
    const key = /^"([a-z0-9_.-]+)"$/.exec(name ?? "")?.[1];
    if (!key) throw new Error(`not a draft-08 list item: ${item}`);
    out[key] = Object.fromEntries(params.map((p) => [p.split("=")[0] ?? "", Number(p.split("=")[1])]));
  }
  return out;
}

type LimiterStub = ReturnType<Env["RATE_LIMITER"]["getByName"]>;
type RecordArgs = Parameters<LimiterStub["record"]>[0];

/**
 * The real RateLimiter objects, each `record` on a principal's object passed through
 * `onPrincipalRecord` (to count, or to fail one) before it reaches the object; every other call,
 * and records on other objects, go straight through.
 */
export function principalRecordsThrough(onPrincipalRecord: (args: RecordArgs) => void) {
  return {
    getByName: (name: string) => {
      const stub = env.RATE_LIMITER.getByName(name);
      return {
        check: (args: Parameters<LimiterStub["check"]>[0]) => stub.check(args),
        record: async (args: RecordArgs) => {
          if (name.startsWith("principal:")) onPrincipalRecord(args);
          return stub.record(args);
        },
      };
    },
  };
}

/** A module's own policy of 3 an hour (a ticket opened), which a tenant may set up to 10 an hour. */
export const TICKETS_OPEN: Policy = {
  limit: 3,
  period_s: 3600,
  burst: 3,
  mode: "sync",
  on_failure: "closed",
  tenant_override: true,
  max_limit: 10,
};
