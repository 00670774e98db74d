import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "../env";
import { loggerOf } from "./init";

/**
 * Writes one structured line per request: method, route pattern, status,
 * duration, request id, and tenant/user ids once later middleware set them.
 * Runs outside `init`, so requests that fail on config are logged too.
 */
export const observe = (): MiddlewareHandler<AppEnv> =>
  async function observe(c, next) {
    const started = performance.now();
    await next();
    const pattern = routePath(c);
    const status = c.res.status;
    const line = {
      method: c.req.method,
      route: pattern.endsWith("*") ? null : pattern,
      status,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      request_id: c.get("requestId"),
      tenant_id: c.get("tenantId"),
      user_id: c.get("userId"),
    };
    const log = loggerOf(c);
    if (status >= 500) log.error("request", line);
    else log.info("request", line);
  };
