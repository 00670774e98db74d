import type { Context, MiddlewareHandler } from "hono";
import type { TenantSettingsLookup } from "../auth/types";
import type { AppEnv } from "../env";
import { decide, type LimitDecision, refusal } from "./limiter";

/** The client's address as the edge reports it, or `unknown` (one bucket for every client the runtime cannot name). */
export const clientIp = (c: Context<AppEnv>): string =>
  c.req.header("cf-connecting-ip")?.trim().slice(0, 64) || "unknown";

/**
 * The RateLimit-Policy and RateLimit header values of the decisions
 * (draft-ietf-httpapi-ratelimit-headers-08 and later): one item per policy.
 *
 * @example
 * // RateLimit-Policy: "principal";q=6000;w=60, "tenant";q=18000;w=60
 * // RateLimit: "principal";r=199;t=1, "tenant";r=599;t=1
 */
export function rateLimitHeaders(decisions: readonly LimitDecision[]): { policy: string; limit: string } {
  return {
    policy: decisions.map((d) => `"${d.policy}";q=${d.limit};w=${d.periodS}`).join(", "),
    limit: decisions.map((d) => `"${d.policy}";r=${d.remaining};t=${d.resetS}`).join(", "),
  };
}

/**
 * Outermost on `/api/v1`: after the request, puts the RateLimit headers of
 * its decisions on the response, errors included. A request refused before
 * the limiter ran (a body over the limit, a bad credential, an unknown
 * tenant) is counted against its client's `anonymous` bucket here, so
 * guessing credentials is limited too.
 */
export const rateLimitHeadersMiddleware = (): MiddlewareHandler<AppEnv> =>
  async function rateLimitHeadersOnResponse(c, next) {
    await next();
    if (!c.get("config")) return;
    if (!c.get("rateLimits")) await decide(c, "anonymous", clientIp(c));
    const decisions = c.get("rateLimits") ?? [];
    if (decisions.length === 0) return;
    const { policy, limit } = rateLimitHeaders(decisions);
    c.res.headers.set("RateLimit-Policy", policy);
    c.res.headers.set("RateLimit", limit);
  };

/**
 * After authentication, before any route: every `/api/v1` request is limited
 * per principal (per client IP when there is none) and per tenant, with the
 * tenant's plan and its own overrides. A refusal is 429 `rate_limited` with
 * Retry-After (503 when the limiter cannot be reached and the policy fails
 * closed).
 */
export const rateLimitMiddleware = (settings: TenantSettingsLookup | undefined): MiddlewareHandler<AppEnv> =>
  async function rateLimit(c, next) {
    const tenant = c.get("tenant");
    const principal = c.get("principal");
    if (tenant && settings) c.set("tenantGateway", await settings.get(tenant.id, c));
    const checks: Promise<LimitDecision>[] = [
      principal ? decide(c, "principal", `${principal.kind}:${principal.id}`) : decide(c, "anonymous", clientIp(c)),
    ];
    if (tenant) checks.push(decide(c, "tenant", tenant.id));
    const refused = (await Promise.all(checks)).filter((d) => !d.allowed);
    const worst = refused.sort((a, b) => b.retryAfterS - a.retryAfterS)[0];
    if (worst) throw refusal(worst);
    await next();
  };
