import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";

/** The policy of API responses: they load nothing and may not be framed. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * Sets the contract's security headers on every response, errors included.
 * A route that serves a page sets its own `Content-Security-Policy` first
 * (the docs page does); it is kept.
 */
export const securityHeaders = (): MiddlewareHandler<AppEnv> =>
  async function securityHeaders(c, next) {
    await next();
    const h = c.res.headers;
    h.set("X-Content-Type-Options", "nosniff");
    h.set("X-Frame-Options", "DENY");
    h.set("Referrer-Policy", "no-referrer");
    if (!h.has("Content-Security-Policy")) h.set("Content-Security-Policy", API_CSP);
    if (new URL(c.req.url).protocol === "https:") {
      h.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    }
  };
