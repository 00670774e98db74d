import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { systemClock } from "../clock";
import type { AppEnv } from "../env";
import { METRICS } from "../metrics/catalog";
import { isolateMetrics } from "../metrics/flush";
import { background } from "./background";
import { loggerOf } from "./init";
import { isMiddlewareRoute } from "./route-kind";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The route a request was for: its pattern, and its key in the route map (`"<METHOD> <pattern>"`). */
interface Endpoint {
  path: string;
  key: string;
}

/**
 * The route the request was for: the first matching endpoint, the one Hono serves it with (a
 * dependency's `/{a}/x` before another module's `/probe/{b}`), even when a middleware answered
 * first (a 401 on `/api/v1/me` is labelled `/api/v1/me`); null when no endpoint matched.
 * Middleware (`.use()`, or a method's `.get("/*", mw)`: a handler taking `next`, route-kind.ts)
 * is never the endpoint, whichever module's: one module's middleware on another's `.all()` route
 * under a shared prefix labelled the request the middleware's. An `.all()` endpoint is keyed
 * `ALL` in the route map. So a 404 under a module's middleware stays unmatched and no module's.
 */
function endpointOf(c: Context<AppEnv>): Endpoint | null {
  const endpoint = matchedRoutes(c).find((r) => !isMiddlewareRoute(r));
  return endpoint ? { path: endpoint.path, key: `${endpoint.method} ${endpoint.path}` } : null;
}

/** The tenant label: the tenant's id when METRICS_TENANTS lists it, "other" for the rest, "none" without one. */
function tenantLabel(c: Context<AppEnv>): string {
  const tenantId = c.get("tenantId");
  if (!tenantId) return "none";
  return c.get("config")?.metricsTenants.has(tenantId) ? tenantId : "other";
}

/**
 * Writes one structured line per request (method, route pattern, status,
 * duration, request id, and tenant/user ids once later middleware set them)
 * and records the request's metrics, then lets the isolate's metrics flush
 * (at most about once a second, after the response). Runs outside `init`,
 * so requests that fail on config are logged and counted too.
 */
export const observe = (owners: ReadonlyMap<string, string> = new Map()): MiddlewareHandler<AppEnv> =>
  async function observe(c, next) {
    const started = performance.now();
    // Routing is done before any handler runs: the route and its module are known now, for every later stage.
    const endpoint = endpointOf(c);
    const route = endpoint?.path ?? null;
    const module = endpoint === null ? undefined : (owners.get(endpoint.key) ?? "kernel");
    if (module) c.set("module", module);
    await next();
    const status = c.res.status;
    const seconds = (performance.now() - started) / 1000;
    const line = {
      method: c.req.method,
      route,
      status,
      duration_ms: Math.round(seconds * 1_000_000) / 1000,
      request_id: c.get("requestId"),
      module,
      tenant_id: c.get("tenantId"),
      user_id: c.get("userId"),
      key_id: c.get("principal")?.kind === "api_key" ? c.get("principal")?.id : undefined,
    };
    const log = loggerOf(c);
    if (status >= 500) log.error("request", line);
    else log.info("request", line);

    const clock = c.get("clock") ?? systemClock;
    const metrics = isolateMetrics();
    const method = METHODS.has(c.req.method) ? c.req.method : "OTHER";
    const routeLabel = route ?? "unmatched";
    metrics.recorder.inc(METRICS.httpRequests, [routeLabel, method, `${Math.floor(status / 100)}xx`, tenantLabel(c)]);
    metrics.recorder.observe(METRICS.httpDuration, [routeLabel, method], seconds);
    metrics.maybeFlush(c.env, clock, (p) => background(c, p));
    analytics(c.env)?.writeDataPoint({
      // Same bounded values as the metrics' labels; the tenant id indexes (samples) the points.
      indexes: [c.get("tenantId") ?? ""],
      blobs: [routeLabel, method, String(status), tenantLabel(c), c.get("requestId") ?? ""],
      doubles: [seconds, status],
    });
  };

/**
 * The optional Workers Analytics Engine binding `ANALYTICS`: when the
 * deployment binds one, every request also writes a data point there (queried
 * with SQL over the account's API). Absent by default; see docs/observability.md.
 */
function analytics(env: Env | undefined): AnalyticsEngineDataset | undefined {
  const binding: unknown = env ? Reflect.get(env, "ANALYTICS") : undefined;
  return isDataset(binding) ? binding : undefined;
}

function isDataset(value: unknown): value is AnalyticsEngineDataset {
  return typeof value === "object" && value !== null && typeof Reflect.get(value, "writeDataPoint") === "function";
}
