import type { MiddlewareHandler } from "hono";
import type { TenantSettingsLookup } from "../auth/types";
import type { AppEnv } from "../env";
import { AppError } from "../errors";

/**
 * Refuses a request a browser sent from an origin its tenant does not allow (`403
 * origin_not_allowed`), before any route runs. CORS alone only stops a page from reading an
 * answer: a browser keeps a preflight's answer for `Access-Control-Max-Age`, so an origin just
 * taken out of `cors_origins` (because it was compromised) kept its writes landing until the
 * cached preflight ran out. Every cross-origin request a browser makes in CORS mode, and every
 * non-GET one, names its `Origin`, so this stops them within the settings cache's bound.
 *
 * Left through: a request with no `Origin` (curl, a server, a browser's plain GET navigation
 * such as the SSO redirects), the page's own origin (a same-origin POST names it too), and a
 * request whose tenant is not known yet (a signed download URL on the main host proves it in
 * its route; it only reads, and CORS still decides whether the page sees the answer).
 * After the rate limiter, which has already read the tenant's settings.
 */
export function originGate(settings: TenantSettingsLookup | undefined): MiddlewareHandler<AppEnv> {
  return async function originGate(c, next) {
    const origin = c.req.header("origin");
    const tenant = c.get("tenant");
    if (origin === undefined || !tenant || !settings) return next();
    if (origin === new URL(c.req.url).origin) return next();
    const gateway = c.get("tenantGateway") ?? (await settings.get(tenant.id, c));
    if (!gateway.corsOrigins.includes(origin)) {
      throw new AppError("origin_not_allowed", {
        detail: `the origin ${JSON.stringify(origin.slice(0, 200))} is not in this tenant's cors_origins`,
      });
    }
    return next();
  };
}
