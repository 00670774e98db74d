import type { Context, MiddlewareHandler } from "hono";
import type { TenantSettingsLookup } from "../auth/types";
import type { AppEnv } from "../env";
import { decide, type LimitDecision, refusal } from "./limiter";

/**
 * The eight groups of an IPv6 address, lowercase and without leading zeros, `::` expanded;
 * fewer when the text is not a full address (the caller decides what that means).
 *
 * @example
 * ipv6Groups("2001:DB8::0001"); // ["2001", "db8", "0", "0", "0", "0", "0", "1"]
 */
function ipv6Groups(ip: string): string[] {
  const [head = "", tail] = ip.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}

/**
 * The client as a rate limit counts it: the address the edge reports, an IPv6
 * one cut to its /64 (a single host is routinely given a whole /64, so per
 * address it could take a fresh bucket for every try), or `unknown` (one
 * bucket for every client the runtime cannot name).
 *
 * @example
 * addressBucket("2001:db8:1:2::9"); // "2001:db8:1:2::/64"
 * addressBucket("203.0.113.7");     // "203.0.113.7"
 */
export function addressBucket(address: string | undefined): string {
  const ip = address?.trim().slice(0, 64).toLowerCase();
  if (!ip) return "unknown";
  if (!ip.includes(":")) return ip;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip);
  if (mapped?.[1]) return mapped[1];
  const groups = ipv6Groups(ip);
  if (groups.length < 4) return ip;
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** The client's rate-limit bucket from `CF-Connecting-IP` ({@link addressBucket}). */
export const clientIp = (c: Context<AppEnv>): string => addressBucket(c.req.header("cf-connecting-ip"));

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
 * any policy decided on it (a body over the limit; a bad credential or an
 * unknown tenant while `auth_failures` is off) is counted against its
 * client's `anonymous` bucket here. Guessing is refused by `auth_failures`
 * (failures.ts), which charges its own bucket and so is not counted twice.
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
 *
 * The tenant's budget a request draws from depends on its caller: `tenant`, shared by the
 * tenant's users and keys, or `tenant_anonymous` for a request without a credential that
 * names the tenant (its subdomain, `X-Tenant`). One budget for both let some thirty
 * addresses, each inside its own `anonymous` allowance, use up a free tenant's minute, and
 * one anonymous client lock out a tenant at the 60-a-minute floor: every signed-in user and
 * key answered 429 by traffic none of them sent.
 *
 * The caller's own bucket is asked first, and the tenant's only once it admits: a request
 * its caller's bucket refuses must not spend the tenant's. Asked together, one address far
 * over its own limit (refused nearly every time) kept charging a tenant it holds no
 * credential for.
 */
export const rateLimitMiddleware = (settings: TenantSettingsLookup | undefined): MiddlewareHandler<AppEnv> =>
  async function rateLimit(c, next) {
    const tenant = c.get("tenant");
    const principal = c.get("principal");
    if (tenant && settings) c.set("tenantGateway", await settings.get(tenant.id, c));
    const own = await (principal
      ? decide(c, "principal", `${principal.kind}:${principal.id}`)
      : decide(c, "anonymous", clientIp(c)));
    if (!own.allowed) throw refusal(own);
    if (tenant) {
      const shared = await decide(c, principal ? "tenant" : "tenant_anonymous", tenant.id);
      if (!shared.allowed) throw refusal(shared);
    }
    await next();
  };
