import { env } from "cloudflare:workers";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { expect } from "vitest";
import { createPlatform } from "../src/app";
import { MIGRATION_TABLES, MIGRATIONS } from "../src/generated/migrations";
import { type Clock, systemClock } from "../src/kernel/clock";
import { parseConfig } from "../src/kernel/config";
import type { Envelope as SealingEnvelope } from "../src/kernel/crypto/envelope";
import { tenantEnvelopeOf } from "../src/kernel/crypto/tenant-envelope";
import type { AppEnv } from "../src/kernel/env";
import type { Problem } from "../src/kernel/errors";
import { applyRoute, canonicalOrder } from "../src/kernel/events/consume";
import type { Envelope } from "../src/kernel/events/envelope";
import { clientIpHash } from "../src/kernel/http/client-ip";
import { type JobResult, jobsOf, runJob } from "../src/kernel/jobs/runner";
import { createLogger, type Logger } from "../src/kernel/log";
import type { BatchOptions, ModuleDef, ModuleRuntime, Subscription } from "../src/kernel/modules/types";
import { realSleeper, type Sleeper } from "../src/kernel/resilience/sleep";
import { modules as registered } from "../src/modules";
import { testResolver } from "./test-resolver";

/** A platform over the given modules, served in-process with the test env. */
export function testApp(
  modules: ModuleDef[],
  overrides: Partial<Record<string, unknown>> = {},
  migrations: readonly string[] = MIGRATIONS,
  clock: Clock = systemClock,
  migrationTables: Readonly<Record<string, readonly string[]>> = MIGRATION_TABLES,
  sleeper: Sleeper = realSleeper,
) {
  // The suite's DNS, as the test Worker's (test/worker.ts): no host a test names goes to a public resolver.
  const { app } = createPlatform({
    modules,
    migrations,
    clock,
    sleeper,
    migration_tables: migrationTables,
    resolver: testResolver,
  });
  const testEnv = { ...env, ...overrides } as Env;
  return {
    app: app as OpenAPIHono<AppEnv>,
    fetch: (path: string, init?: RequestInit) => app.request(path, init, testEnv),
  };
}

/** Asserts a response is the contract's problem+json for `code` and returns it. */
export async function expectProblem(res: Response, status: number, code: string): Promise<Problem> {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Problem;
  expect({ status: res.status, code: body.code }).toEqual({ status, code });
  expect(body.status).toBe(status);
  expect(body.type).toBe(`/problems/${code}`);
  expect(typeof body.title).toBe("string");
  expect(typeof body.detail).toBe("string");
  expect(body.request_id).toBe(res.headers.get("x-request-id"));
  return body;
}

/** The security headers every response must carry. */
export function expectSecurityHeaders(res: Response): void {
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("content-security-policy")).toBeTruthy();
  expect(res.headers.get("x-request-id")).toBeTruthy();
}

/** What a subscriber or a job receives, over the test env: for calling one directly. */
export function testRuntime(clock: Clock = systemClock): ModuleRuntime {
  const parsed = parseConfig({ ...env });
  if (!parsed.ok) throw new Error(`the test env does not parse: ${JSON.stringify(parsed.issues)}`);
  return { env, config: parsed.config, log: createLogger("error"), clock, modules: registered, waitUntil: () => {} };
}

/**
 * The tenant envelope through the kernel's port (`tenantEnvelopeOf`), as a module seals, but
 * under the ENCRYPTION_KEYS value `encryptionKeys` a test chooses (a retired version, one key).
 */
export function keyedEnvelope(encryptionKeys: string, clock: Clock = systemClock): SealingEnvelope {
  return tenantEnvelopeOf({ ...testRuntime(clock), config: { encryptionKeys } });
}

/**
 * The test runtime with, beside every registered module, a module `test` declaring `kinds` as
 * sealed and storing none of them: the tenant envelope of its runtime (`tenantEnvelopeOf`)
 * seals those kinds, as a product module's would once declared.
 */
export function sealingRuntime(...kinds: string[]): ModuleRuntime {
  const test: ModuleDef = {
    name: "test",
    version: "1.0.0",
    sealed: { kinds, versions: async () => ({}), reencrypt: async () => ({ resealed: 0, raced: 0 }) },
  };
  return { ...testRuntime(), modules: [...registered, test] };
}

/**
 * Applies `events` to one subscription as the queue consumer does (a batch,
 * in canonical order, writes committed with the ledger marks); throws the
 * first failure, as a one-at-a-time handler would.
 */
export async function deliver(
  subscription: Subscription,
  events: readonly Envelope[],
  runtime: ModuleRuntime = testRuntime(),
  options: BatchOptions = { fillGaps: true },
): Promise<void> {
  const route = { module: "test", consumer: `test:${subscription.name}`, subscription };
  const failures = await applyRoute(route, canonicalOrder(events), runtime, options, "queue");
  const [first] = failures.values();
  if (first !== undefined) throw first;
}

/**
 * Runs a job by name (`<module>/<job>`) now, as `POST /api/v1/platform/jobs/{module}/{job}/run`
 * does: under its lease and retry policy, recorded, with `clock` as the time (its fire time too).
 */
export async function runJobNamed(
  name: string,
  options: {
    modules?: readonly ModuleDef[];
    clock?: Clock;
    log?: Logger;
    waitUntil?: (promise: Promise<unknown>) => void;
    /** Waits between a failing run's attempts (the runtime's timers unless given). */
    sleeper?: Sleeper;
  } = {},
): Promise<JobResult> {
  const entry = jobsOf(options.modules ?? registered).find((j) => j.name === name);
  if (!entry) throw new Error(`no job named ${name}`);
  const clock = options.clock ?? systemClock;
  const modules = options.modules ?? registered;
  const runtime = {
    ...testRuntime(clock),
    modules,
    ...(options.log ? { log: options.log } : {}),
    ...(options.waitUntil ? { waitUntil: options.waitUntil } : {}),
    ...(options.sleeper ? { sleeper: options.sleeper } : {}),
  };
  return runJob(entry, runtime, clock.now().getTime(), "manual");
}

/**
 * The platform's modules with the tenant registry's walk narrowed to `tenantIds`: a per-tenant
 * job run over them (`runJobNamed(name, { modules: walkingOnly([t.id]) })`) visits the test's own
 * tenants only. Over the registry as it is, it visits every tenant the files before made (some
 * thousands late in a run, each an object call), which took a job with three runs past the
 * test's 30 s under load. Of those, it walks the ones the registry would (deleted ones never,
 * suspended ones unless the job asks for `only: "active"`). Everything else the registry
 * answers is the real one's.
 */
export function walkingOnly(tenantIds: readonly string[], modules: readonly ModuleDef[] = registered): ModuleDef[] {
  const only = [...tenantIds].sort();
  return modules.map((m) => {
    const tenants = m.auth?.tenants;
    if (!m.auth || !tenants) return m;
    const narrowed: typeof tenants = Object.create(tenants);
    // As the registry's own walk: live tenants only, and active ones only when the job asks.
    narrowed.ids = async (env, after, limit, filter) => {
      const walked: string[] = [];
      for (const id of only.filter((id) => after === undefined || id > after)) {
        const tenant = await tenants.find(env, id);
        if (tenant && (filter?.only !== "active" || tenant.status === "active")) walked.push(id);
        if (walked.length === limit) break;
      }
      return walked;
    };
    return { ...m, auth: { ...m.auth, tenants: narrowed } };
  });
}

/**
 * The suite's D1, refusing each statement `refuses` picks (as D1 does for a moment) at the
 * time it is prepared, as a failed write would: e.g. the mark of a dead-letter replay.
 */
export function d1Refusing(refuses: (query: string) => boolean): D1Database {
  return new Proxy(env.DB, {
    get(target, name) {
      if (name === "prepare") {
        return (query: string) => {
          if (refuses(query)) throw new Error("D1_ERROR: table unavailable");
          return target.prepare(query);
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The audit log's hash of `ip` in tenant `tenantId`, as the kernel keys it. */
export async function ipHashOf(tenantId: string, ip: string): Promise<string | null> {
  const parsed = parseConfig({ ...env });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const app = new Hono<AppEnv>().get("/", (c) => {
    c.set("config", parsed.config);
    c.set("tenant", { id: tenantId } as AppEnv["Variables"]["tenant"]);
    return c.json(clientIpHash(c));
  });
  return (await app.request("/", { headers: { "cf-connecting-ip": ip } })).json();
}
