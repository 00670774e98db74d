import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { hostName } from "../http/host-name";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";
import { tokenRefused } from "./challenge";
import { refuseUnavailable } from "./guards";
import { DEPRECATED_CREDENTIAL_HEADER, matchRotated, notePreviousSecret, type SecretMatch } from "./rotated-secret";
import type { Authenticator, Principal, Tenant, TenantLookup } from "./types";

const PLATFORM_PREFIX = "/api/v1/platform";

/** Why a credential was refused, for `plinth_auth_failures_total`: a closed set. */
type AuthFailure =
  | "malformed_header"
  | "unknown_credential"
  | "no_root_key"
  | "root_key_off_platform"
  | "platform_needs_root_key";

function refused(reason: AuthFailure, code: "unauthenticated" | "forbidden", detail: string): AppError {
  isolateRecorder.inc(METRICS.authFailures, [reason]);
  // Every 401 here is to a token that was sent: its challenge says why (RFC 6750 §3.1).
  if (code === "unauthenticated")
    return tokenRefused(detail, reason === "malformed_header" ? "invalid_request" : "invalid_token");
  return new AppError(code, { detail });
}

/**
 * Whether the token is the platform root key, compared in constant time over UTF-16
 * code units: the loop runs the token's length whatever the key holds, so timing can
 * tell only the token's own length. Plain JavaScript on purpose: it runs on every
 * request, where encoding both strings for WebCrypto's compare cost ~2% of a PATCH.
 */
function isRootKey(token: string, rootKey: string): boolean {
  if (rootKey.length === 0) return false;
  let diff = token.length ^ rootKey.length;
  for (let i = 0; i < token.length; i++) diff |= token.charCodeAt(i) ^ rootKey.charCodeAt(i % rootKey.length);
  return diff === 0;
}

/**
 * The token of an Authorization header (`Bearer <token>`, the scheme in any case, any spaces before
 * the token), or null when it is malformed. The one parse: what a credential is keyed by elsewhere
 * (failures.ts) must be what it is verified as here.
 */
export function bearerToken(header: string): string | null {
  return /^Bearer[ ]+([\x21-\x7e]{1,4096})$/i.exec(header.trim())?.[1] ?? null;
}

/** The bearer token of the request; undefined when there is no Authorization header. */
function bearer(c: Context<AppEnv>): string | undefined {
  const header = c.req.header("authorization");
  if (header === undefined) return undefined;
  const token = bearerToken(header);
  if (!token) throw refused("malformed_header", "unauthenticated", "the Authorization header must be 'Bearer <token>'");
  return token;
}

async function authenticate(
  token: string,
  c: Context<AppEnv>,
  authenticators: readonly Authenticator[],
): Promise<Principal | null> {
  const authenticator = authenticators.find((a) => a.accepts(token));
  return authenticator ? authenticator.authenticate(token, c) : null;
}

/** The tenant slug named by the host (in any case, with or without the root's trailing dot), when it is a subdomain of PLATFORM_DOMAIN. */
export function subdomainSlug(c: Context<AppEnv>): string | undefined {
  const domain = c.get("config").tenantDomain;
  if (!domain) return undefined;
  const host = hostName(new URL(c.req.url));
  if (!host.endsWith(`.${domain}`)) return undefined;
  const label = host.slice(0, -(domain.length + 1));
  return label.includes(".") ? undefined : label;
}

/** The tenant slugs the request names (its subdomain of PLATFORM_DOMAIN, `X-Tenant`), each once. */
export function namedSlugs(c: Context<AppEnv>): Set<string> {
  const named = [subdomainSlug(c), c.req.header("x-tenant")?.trim().toLowerCase()];
  return new Set(named.filter((s): s is string => s !== undefined && s !== ""));
}

/**
 * Resolves the caller and the tenant of every `/api/v1` request, before any
 * route runs. Credentials: the platform root key (valid only under
 * `/api/v1/platform`, compared in constant time), then the module-provided
 * authenticators (API keys, JWTs). Tenant sources: the credential's tenant,
 * the subdomain of PLATFORM_DOMAIN, the `X-Tenant` header; sources that
 * disagree are refused, never merged.
 */
export function resolveRequest(deps: {
  authenticators: readonly Authenticator[];
  tenants: TenantLookup | undefined;
}): MiddlewareHandler<AppEnv> {
  return async function resolveRequest(c, next) {
    const token = bearer(c);
    const onPlatform = c.req.path === PLATFORM_PREFIX || c.req.path.startsWith(`${PLATFORM_PREFIX}/`);
    const { platformRootKey: rootKey, platformRootKeyPrevious } = c.get("config");
    let match: SecretMatch = "none";
    if (token !== undefined) {
      // The previous key, during a rotation, is the root key in every way, and in no other.
      match = matchRotated(token, rootKey, platformRootKeyPrevious, isRootKey);
      if (match !== "none") {
        if (!onPlatform)
          throw refused(
            "root_key_off_platform",
            "forbidden",
            "the platform root key is valid only on /api/v1/platform",
          );
        if (match === "previous") notePreviousSecret(c, "PLATFORM_ROOT_KEY_PREVIOUS");
        c.set("principal", { kind: "platform", id: "platform", grants: [] });
      } else {
        const principal = await authenticate(token, c, deps.authenticators);
        // No root key configured: say so on the routes only it opens, rather than blame the key.
        if (!principal && onPlatform && rootKey === undefined) {
          throw refused(
            "no_root_key",
            "unauthenticated",
            "this deployment has no PLATFORM_ROOT_KEY: platform routes take no credential until it is set",
          );
        }
        if (!principal)
          throw refused("unknown_credential", "unauthenticated", "the credential is unknown, expired or revoked");
        if (onPlatform)
          throw refused("platform_needs_root_key", "forbidden", "platform routes take the platform root key");
        c.set("principal", principal);
      }
    }
    if (!onPlatform && deps.tenants) {
      const tenant = await resolveTenant(c, deps.tenants, c.get("principal"));
      refuseUnavailable(tenant);
      if (tenant) c.set("tenant", tenant);
    }
    const tenant = c.get("tenant");
    if (tenant) c.set("tenantId", tenant.id);
    const principal = c.get("principal");
    if (principal?.kind === "user") c.set("userId", principal.id);
    // Every later line of this request names its tenant and caller.
    const ids = {
      ...(tenant ? { tenant_id: tenant.id } : {}),
      ...(principal?.kind === "user" ? { user_id: principal.id } : {}),
      ...(principal?.kind === "api_key" ? { key_id: principal.id } : {}),
    };
    const log = c.get("log");
    if (log && Object.keys(ids).length > 0) c.set("log", log.child(ids));
    await next();
    // An error's problem response is built apart from `c`, without the header prepared on it.
    if (match === "previous") c.header(DEPRECATED_CREDENTIAL_HEADER, "PLATFORM_ROOT_KEY_PREVIOUS");
  };
}

async function resolveTenant(
  c: Context<AppEnv>,
  lookup: TenantLookup,
  principal: Principal | undefined,
): Promise<Tenant | undefined> {
  const credentialTenantId = principal && principal.kind !== "platform" ? principal.tenantId : undefined;
  const found: Tenant[] = [];
  for (const slug of namedSlugs(c)) {
    const tenant = /^[a-z0-9-]{1,63}$/.test(slug) ? await lookup.bySlug(slug, c) : null;
    if (!tenant) {
      if (credentialTenantId)
        throw new AppError("tenant_mismatch", { detail: "the credential belongs to another tenant" });
      throw new AppError("tenant_not_found", { detail: `no tenant "${slug.slice(0, 63)}"` });
    }
    found.push(tenant);
  }
  if (credentialTenantId) {
    if (found.some((t) => t.id !== credentialTenantId)) {
      throw new AppError("tenant_mismatch", { detail: "the credential belongs to another tenant" });
    }
    const own = found[0] ?? (await lookup.byId(credentialTenantId, c));
    if (!own) throw tokenRefused("the credential's tenant no longer exists");
    return own;
  }
  const first = found[0];
  if (first && found.some((t) => t.id !== first.id)) {
    throw new AppError("tenant_mismatch", { detail: "the subdomain and X-Tenant name different tenants" });
  }
  return first;
}
