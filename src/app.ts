import type { OpenAPIHono } from "@hono/zod-openapi";
import type { DeciderRegistry } from "../durable-objects/aggregate";
import pkg from "../package.json";
import { OBJECT_CLASSES } from "./generated/objects";
import { memberDirectory } from "./kernel/auth/member-directory";
import { resolveRequest } from "./kernel/auth/resolve";
import { tenantRegistry } from "./kernel/auth/tenant-registry";
import { type Clock, systemClock } from "./kernel/clock";
import { KERNEL_BINDINGS } from "./kernel/config";
import { hash } from "./kernel/crypto/hash";
import { cryptoOperations } from "./kernel/crypto/routes";
import { declaredSealedKinds } from "./kernel/crypto/sealed-kinds";
import { tenantSeedSource } from "./kernel/crypto/tenant-envelope";
import type { AppEnv } from "./kernel/env";
import { platformDeadLetterRoutes } from "./kernel/events/dead-letter-routes";
import { eventOperations } from "./kernel/events/routes";
import {
  d1Check,
  type HealthCheck,
  migrationsCheck,
  objectCheck,
  queueCheck,
  sealedValuesCheck,
  signingKeysCheck,
  wasmCheck,
} from "./kernel/health/checks";
import { KERNEL_OBJECTS } from "./kernel/health/contract";
import { moduleObjectChecks } from "./kernel/health/module-objects";
import { migrationWatch } from "./kernel/health/pending-migrations";
import { healthRoutes } from "./kernel/health/routes";
import { bodyLimit } from "./kernel/http/body-limit";
import { cors } from "./kernel/http/cors";
import { drainBody } from "./kernel/http/drain-body";
import { errorHandler, methodIndex, notFound } from "./kernel/http/edge";
import { init } from "./kernel/http/init";
import { migrationsGate } from "./kernel/http/migrations-gate";
import { notModified } from "./kernel/http/not-modified";
import { observe } from "./kernel/http/observe";
import { originGate } from "./kernel/http/origin-gate";
import { requestId } from "./kernel/http/request-id";
import { isMiddlewareRoute } from "./kernel/http/route-kind";
import { securityHeaders } from "./kernel/http/security-headers";
import { idempotency } from "./kernel/idempotency/middleware";
import { jobOperations } from "./kernel/jobs/routes";
import { metricsRoutes } from "./kernel/metrics/routes";
import { eventReadRules } from "./kernel/modules/event-read";
import { roleGrants } from "./kernel/modules/grants";
import { providerOf } from "./kernel/modules/providers";
import { moduleRatePolicies } from "./kernel/modules/rate-limits";
import { ModuleRegistryError, publishedTypes, resolveModules } from "./kernel/modules/registry";
import { kernelRouteProblems } from "./kernel/modules/routes";
import type { EnvNeeds, ModuleDef, PlatformParts } from "./kernel/modules/types";
import { mailCheck, mailRoutes } from "./kernel/notify";
import { createRouter } from "./kernel/openapi/router";
import { mountOpenApi } from "./kernel/openapi/routes";
import { dohResolver, type Resolver } from "./kernel/outbound";
import { personalDataOperations } from "./kernel/personal-data/routes";
import { guardFailures } from "./kernel/ratelimit/failures";
import { rateLimitHeadersMiddleware, rateLimitMiddleware } from "./kernel/ratelimit/middleware";
import { readModelsCheck } from "./kernel/read-models";
import { realSleeper, type Sleeper } from "./kernel/resilience/sleep";
import { annotate, stage, tracing } from "./kernel/telemetry";

export interface AppOptions {
  modules: readonly ModuleDef[];
  /** Names of the D1 migrations shipped with this build, in order. */
  migrations: readonly string[];
  /**
   * The tables each migration makes (`MIGRATION_TABLES` of src/generated/migrations.ts): `/readyz`
   * checks those of the applied migrations exist. Unset: it checks the names alone.
   */
  migration_tables?: Readonly<Record<string, readonly string[]>>;
  /** The platform's clock; the system clock unless a test brings its own. */
  clock?: Clock;
  /**
   * What the platform's waits and timeouts sleep on (the limiter's pause between reports, a
   * readiness check's timeout, an outbound request's): the runtime's timers unless a test brings
   * a `manualTime`'s sleeper, which ends them when the test moves time.
   */
  sleeper?: Sleeper;
  /**
   * The DNS the outbound guard asks before fetching a host a tenant named (webhook receivers,
   * identity providers); DNS over HTTPS unless a test brings its own, so a test suite sends
   * no query to the internet (test/worker.ts).
   */
  resolver?: Resolver;
  /** The class each Durable Object binding names (wrangler.toml, via `npm run generate`): how `/readyz` reports modules' objects. */
  object_classes?: Readonly<Record<string, string>>;
}

/** The app plus what the other entry points (queue, scheduled, the Aggregate object) need. */
export interface Platform extends PlatformParts {
  app: OpenAPIHono<AppEnv>;
  modules: ModuleDef[];
  /** Every aggregate type the modules declare, for the Aggregate Durable Object. */
  deciders: DeciderRegistry;
  /** The DNS of outbound requests to tenant-named hosts: the app's, and the webhook endpoint actor's. */
  resolver: Resolver;
  /** What the app's waits and timeouts sleep on; the jobs the scheduled handler runs sleep on it too. */
  sleeper: Sleeper;
}

/**
 * Which module serves each route, as `"<METHOD> <pattern>"` → module name, from
 * the modules' own routers and where they are mounted; the request log line
 * names it, and `enforce` lets a route charge its own module's policies only.
 * Every endpoint a module mounts is in it however it was registered, `.all()` as
 * `ALL`, so a module's `.all()` endpoint is never taken for no one's; its
 * middleware (`.use()` or `.get("/*", mw)`, a handler taking `next`:
 * kernel/http/route-kind.ts) is not an endpoint.
 * Routes absent from the map are the kernel's.
 */
function routeModules(modules: readonly ModuleDef[]): ReadonlyMap<string, string> {
  const owners = new Map<string, string>();
  const add = (
    prefix: string,
    router: { routes: { method: string; path: string; handler: unknown }[] },
    name: string,
  ) => {
    for (const r of router.routes) {
      if (isMiddlewareRoute(r)) continue;
      const key = `${r.method} ${`${prefix}${r.path === "/" ? "" : r.path}` || "/"}`;
      // Hono serves a route with its first handler, so the first module to mount it owns it.
      if (!owners.has(key)) owners.set(key, name);
    }
  };
  for (const m of modules) {
    if (m.root_routes) add("", m.root_routes, m.name);
    if (m.routes) add(`/api/v1${m.base_path ?? `/${m.name}`}`, m.routes, m.name);
  }
  return owners;
}

/**
 * Composes plinth: kernel middleware in the order of the request path, kernel
 * routes, then each module's routes in dependency order under `/api/v1`.
 *
 * @throws {ModuleRegistryError} when the modules cannot form a platform.
 */
export function createPlatform(options: AppOptions): Platform {
  const modules = resolveModules(options.modules);
  const clock = options.clock ?? systemClock;
  const sleeper = options.sleeper ?? realSleeper;
  const resolver = options.resolver ?? dohResolver();
  const needs: EnvNeeds = {
    bindings: Object.assign({ ...KERNEL_BINDINGS }, ...modules.map((m) => m.bindings ?? {})),
    variables: Object.assign({}, ...modules.map((m) => m.variables ?? {})),
    ratePolicies: moduleRatePolicies(modules),
  };
  const deciders = new Map(
    modules.flatMap((m) =>
      (m.aggregates ?? []).map((a) => [a.decider.type, { decider: a.decider, snapshotEvery: a.snapshot_every ?? 50 }]),
    ),
  );
  const app = createRouter();
  // One per isolate: the read guard, a missing table's answer and the queue consumer share what it knows.
  const schema = migrationWatch(options.migrations);

  // The request span (the library's root): named by route pattern, with the tenant, once the app answered.
  // Only when tracing is on (decided before the app is built): off, a request pays nothing for it.
  if (tracing()) {
    app.use("*", async (c, next) => {
      await next();
      annotate({ "http.route": c.req.routePath, "tenant.id": c.get("tenantId") });
    });
  }
  const tenants = tenantRegistry(modules);
  const members = memberDirectory(modules);
  const seeds = tenantSeedSource(modules);
  app.use(
    "*",
    stage("request-id", requestId()),
    stage("security-headers", securityHeaders()),
    stage("observe", observe(routeModules(modules))),
  );
  app.use(
    "*",
    stage(
      "init",
      init({
        build: {
          version: pkg.version,
          modules: modules.map((m) => ({ name: m.name, version: m.version })),
          permissions: modules.flatMap((m) => m.permissions ?? []).sort(),
          events: publishedTypes(modules),
          grants: roleGrants(modules),
          event_read: eventReadRules(modules),
        },
        needs,
        clock,
        sleeper,
        resolver,
        ...(tenants ? { tenants } : {}),
        ...(members ? { members } : {}),
        ...(seeds ? { seeds } : {}),
        sealedKinds: declaredSealedKinds(modules),
      }),
    ),
    // Right after init (it reads MAX_BODY_BYTES): every refusal below may leave a body unread.
    stage("drain-body", drainBody()),
  );
  const settings = providerOf(modules, "settings");
  const urlTenants = modules.flatMap((m) => m.auth?.url_tenants ?? []);
  app.use("/api/v1/*", stage("cors", cors({ tenants, settings, urlTenants })));
  // The headers outside the body limit, so a 413 carries them too; the limit before
  // authentication, so an oversized body is refused before any work on its credential
  // (and is counted against its client's address, as every refusal before the limiter).
  app.use("/api/v1/*", stage("rate-limit-headers", rateLimitHeadersMiddleware()));
  app.use("*", stage("body-limit", bodyLimit()));
  app.use(
    "/api/v1/*",
    stage(
      "auth",
      // Inside the guard, so an address spent on refused credentials and tenant names is answered
      // 429 before its next lookup (kernel/ratelimit/failures.ts).
      guardFailures(resolveRequest({ authenticators: modules.flatMap((m) => m.auth?.authenticators ?? []), tenants })),
    ),
  );
  // The origin refused after the limiter (which reads the tenant's settings) and before an
  // Idempotency-Key records anything.
  app.use(
    "/api/v1/*",
    stage("rate-limit", rateLimitMiddleware(settings)),
    stage("origin", originGate(settings)),
    stage("idempotency", idempotency()),
  );
  // After authentication, so only a client the API would answer learns that it is being migrated.
  app.use("/api/v1/*", stage("migrations", migrationsGate(schema)));
  // Innermost, so it sees the route's own answer (given only once authorized) and every stage
  // above sets its headers (CORS, RateLimit, request id) on a 304 as on the 200.
  app.use("*", stage("not-modified", notModified()));

  const checks: HealthCheck[] = [
    d1Check,
    migrationsCheck(options.migrations, options.migration_tables),
    readModelsCheck(options.migrations, options.migration_tables),
    queueCheck,
    mailCheck(needs),
    wasmCheck((input) => hash.blake2b(input)),
    sealedValuesCheck,
    signingKeysCheck,
    ...KERNEL_OBJECTS.map((o) => objectCheck(o.name, o.ping)),
    // Every object a module binds is pinged without a check of its own: one forgotten was a green /readyz.
    ...moduleObjectChecks(modules, options.object_classes ?? OBJECT_CLASSES),
  ];
  for (const m of modules) {
    for (const check of m.health ?? []) {
      // Two checks of one name would report as one; a module's own ping of an object it binds repeats the kernel's.
      if (checks.some((c) => c.name === check.name)) {
        throw new ModuleRegistryError([
          { module: m.name, problem: `readiness check "${check.name}" is already in /readyz: remove it from health` },
        ]);
      }
      checks.push(check);
    }
  }
  app.route("/", healthRoutes(checks));
  app.route("/", metricsRoutes());
  app.route("/api/v1", eventOperations({ modules, deciders, tenants }));
  app.route("/api/v1", platformDeadLetterRoutes({ modules, tenants }));
  app.route("/api/v1", mailRoutes({ tenants }));
  app.route("/api/v1", jobOperations({ modules }));
  app.route("/api/v1", cryptoOperations({ modules, tenants }));
  app.route("/api/v1", personalDataOperations({ modules }));

  const kernelFirst = app.routes.slice();
  for (const m of modules) {
    if (m.root_routes) app.route("/", m.root_routes);
    if (m.routes) app.route(`/api/v1${m.base_path ?? `/${m.name}`}`, m.routes);
  }
  const modulesEnd = app.routes.length;
  mountOpenApi(app, pkg.version);
  // The kernel's routes are known only now: a module's route must neither lose its requests to one nor take one's.
  const clashes = kernelRouteProblems(modules, kernelFirst, app.routes.slice(modulesEnd));
  if (clashes.length > 0) throw new ModuleRegistryError(clashes);
  app.notFound(notFound(methodIndex(app.routes)));
  app.onError(errorHandler(schema));
  return { app, modules, needs, clock, sleeper, resolver, deciders, schema };
}
