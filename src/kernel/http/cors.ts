import type { Context, MiddlewareHandler } from "hono";
import { subdomainSlug } from "../auth/resolve";
import { DEPRECATED_CREDENTIAL_HEADER } from "../auth/rotated-secret";
import type { Tenant, TenantLookup, TenantSettingsLookup, UrlTenantProof } from "../auth/types";
import type { AppEnv } from "../env";

const ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE";
// What plinth's operations read, so a browser app can send it: an upload's Content-Digest (an
// idempotent upload requires it) and Repr-Digest, a file download's digest preferences
// (RFC 9530 Want-*) and its conditional (RFC 9110 §13: tags and dates) and range headers.
// And what a page's libraries add on their own, which plinth ignores but a preflight without
// them refuses, so the page gets nothing: `Cache-Control` and `Pragma` (HTTP clients asked not
// to cache) and W3C Trace Context's `traceparent` / `tracestate` (OpenTelemetry web). None
// carries a credential or changes what plinth does.
const ALLOW_HEADERS =
  "Authorization, Content-Type, If-Match, Idempotency-Key, X-Tenant, X-Request-Id, Content-Digest, Repr-Digest, Want-Content-Digest, Want-Repr-Digest, If-None-Match, If-Range, Range, If-Modified-Since, If-Unmodified-Since, Cache-Control, Pragma, traceparent, tracestate";
// And what it answers that a browser app reads: a download's range, length and digests (to check
// the bytes it fetched) as well, the Location of what a POST created (an upload's 201), the
// notice that the credential sent is a secret being rotated out, and the header in which an
// error names its remedy (a 401's scheme, a 405's methods, a 415's media types): the OpenAPI
// document declares them, so a generated client reads them, and unexposed it reads null.
const EXPOSE_HEADERS = `ETag, X-Request-Id, RateLimit, RateLimit-Policy, Retry-After, Idempotent-Replayed, Content-Range, Content-Disposition, Accept-Ranges, Repr-Digest, Content-Digest, Location, ${DEPRECATED_CREDENTIAL_HEADER}, WWW-Authenticate, Allow, Accept-Post, Accept-Patch`;
const MAX_AGE_S = "600";

/**
 * Per-tenant CORS for `/api/v1`. A preflight (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`) carries no credential, so its tenant comes
 * from the host (`<slug>.<tenant domain>`); from an origin in the tenant's
 * `cors_origins` it is answered 204 with what may be sent, and actual
 * responses to that origin (errors too) say it may read them and which
 * headers. Any other origin gets no CORS headers, so the browser refuses.
 * A route with no credential that proves its tenant itself (a signed download
 * URL) sets `tenantId`, so its answer gets that tenant's CORS on any host; its
 * preflight, which never reaches the route, asks the modules' `auth.url_tenants`
 * on a host that names no tenant, so a page's GET with a `Range` or
 * `If-None-Match` (not CORS-safelisted) is let through there too.
 */
export function cors(deps: {
  tenants?: TenantLookup;
  settings?: TenantSettingsLookup;
  urlTenants?: readonly UrlTenantProof[];
}): MiddlewareHandler<AppEnv> {
  /**
   * A tenant that may still have CORS: a deleted one (being erased) answers every request
   * `404 tenant_not_found` as if it never existed, so its preflights get none either, as an
   * unknown slug's do.
   */
  const live = (tenant: Tenant | null | undefined) => (tenant && tenant.status !== "deleting" ? tenant.id : undefined);

  /** The first tenant a module's URL proof names, for a preflight on a host without one. */
  async function provenByUrl(c: Context<AppEnv>): Promise<string | undefined> {
    for (const proof of deps.urlTenants ?? []) {
      const id = await proof(c);
      if (id !== undefined) return live(await deps.tenants?.byId(id, c));
    }
    return undefined;
  }

  async function allowed(c: Context<AppEnv>, origin: string, preflight: boolean): Promise<boolean> {
    if (!deps.settings) return false;
    // The resolved tenant; else one a route proved after the request path (a signed URL's `tenantId`).
    let tenantId = c.get("tenant")?.id ?? c.get("tenantId");
    const slug = tenantId ? undefined : subdomainSlug(c);
    if (!tenantId && slug) tenantId = live(await deps.tenants?.bySlug(slug, c));
    // Only where the host names no tenant: a tenant's host keeps deciding its own preflights.
    else if (!tenantId && preflight) tenantId = await provenByUrl(c);
    if (!tenantId) return false;
    const gateway = c.get("tenantGateway") ?? (await deps.settings.get(tenantId, c));
    return gateway.corsOrigins.includes(origin);
  }

  return async function corsMiddleware(c, next) {
    const origin = c.req.header("origin");
    const preflight = c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined;
    if (origin === undefined) return next();
    if (preflight) {
      const res = c.body(null, 204);
      res.headers.set("Vary", "Origin");
      if (await allowed(c, origin, true)) {
        res.headers.set("Access-Control-Allow-Origin", origin);
        res.headers.set("Access-Control-Allow-Methods", ALLOW_METHODS);
        res.headers.set("Access-Control-Allow-Headers", ALLOW_HEADERS);
        res.headers.set("Access-Control-Max-Age", MAX_AGE_S);
      }
      return res;
    }
    await next();
    c.res.headers.append("Vary", "Origin");
    if (await allowed(c, origin, false).catch(() => false)) {
      c.res.headers.set("Access-Control-Allow-Origin", origin);
      c.res.headers.set("Access-Control-Expose-Headers", EXPOSE_HEADERS);
    }
  };
}
