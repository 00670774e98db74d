import type { Context } from "hono";
import { type AccessClaims, loadSigningKeys, type SigningKeySet, verifyAccessToken } from "../../kernel/auth/jwt";
import type { Authenticator, Principal } from "../../kernel/auth/types";
import { TtlCache } from "../../kernel/cache/ttl-cache";
import { isoNow } from "../../kernel/clock";
import { isolateDigest, sha256Hex } from "../../kernel/crypto";
import type { AppEnv } from "../../kernel/env";
import { background } from "../../kernel/http/background";
import { hostName } from "../../kernel/http/host-name";
import { directory } from "./directory/contract";
import type { UserPrincipal } from "./directory/types";
import { keyIndex } from "./key-index";
import { effectiveGrants } from "./key-reach";

/** How long an isolate trusts a verified key (live, and what its creator chain holds) without asking the directory. */
export const KEY_CACHE_TTL_MS = 10_000;

type KeyPrincipal = Extract<Principal, { kind: "api_key" }>;

/**
 * Verified API keys by {@link isolateDigest} of the key (synchronous; the SHA-256
 * that finds a key in the index is computed only on a miss), with the request
 * clock's time they were verified. Staleness bound: a key revoked elsewhere is
 * refused within 10 s, and so is what its creator no longer holds (a role lost,
 * rewritten or revoked); the isolate that revokes a key, or changes a role,
 * forgets at once. Aged by the request's clock as well as the system's, as the
 * user cache is.
 */
export const keyCache = new TtlCache<string, { principal: KeyPrincipal; at: number }>({
  ttlMs: KEY_CACHE_TTL_MS,
  maxEntries: 10_000,
});

/** How long an isolate trusts a user's roles and live sessions without asking the directory: the contract's 10 s. */
export const USER_CACHE_TTL_MS = 10_000;

/**
 * Current roles and live sessions of users, by `tenant/user`, with the
 * request clock's time they were read. Staleness bound: role changes,
 * deletion and revoked families (logout, reset, a revoked session) take
 * effect within 10 s, by the system clock and by the injected one alike.
 */
export const userCache = new TtlCache<string, { user: UserPrincipal | null; at: number }>({
  ttlMs: USER_CACHE_TTL_MS,
  maxEntries: 10_000,
});

/**
 * Access tokens whose signature and claims verified, by {@link isolateDigest} of
 * the token (as verified API keys are: the isolate's memory then holds no usable
 * credential). Safe to reuse until the token's own `exp`: revocation is not
 * decided here but by the user cache below, checked on every request.
 */
export const verifiedTokens = new TtlCache<string, { claims: AccessClaims; keys: SigningKeySet }>({
  ttlMs: 60_000,
  maxEntries: 10_000,
});

// last_used_at is written at most once a minute per key and isolate, off the response path.
const touched = new TtlCache<string, true>({ ttlMs: 60_000, maxEntries: 10_000 });

/** Forgets everything cached about a key (on revocation, in the revoking isolate). */
export function evictKey(keyId: string): void {
  keyCache.deleteWhere((k) => k.principal.id === keyId);
}

/** Forgets every cached key of a tenant (on a role change: what their creators hold may have changed). */
export function evictTenantKeys(tenantId: string): void {
  keyCache.deleteWhere((k) => k.principal.tenantId === tenantId);
}

/**
 * After the directory revoked `keys`: this isolate forgets them at once, and they leave the
 * D1 key index (a row left by a failure here routes to a directory that refuses the key).
 */
export async function forgetRevokedKeys(db: D1Database, keys: readonly { id: string; hash: string }[]): Promise<void> {
  for (const key of keys) evictKey(key.id);
  await keyIndex(db).remove(keys.map((k) => k.hash));
}

/**
 * After a role's permissions changed (an admin's PUT, or the `tenants/apply-grants` job adding a
 * module's grant), this isolate forgets the tenant's cached users and keys (a key holds no more
 * than its creator does): effective at once here, within 10 s elsewhere.
 */
export function forgetTenantPrincipals(tenantId: string): void {
  userCache.deleteWhere((_, key) => key.startsWith(`${tenantId}/`));
  evictTenantKeys(tenantId);
}

/** Forgets a user's cached principal (on deletion, role change, reset, logout). */
export function evictUser(tenantId: string, userId: string): void {
  userCache.delete(`${tenantId}/${userId}`);
}

/** API keys: `plk_…`, routed to their tenant by the D1 index, verified by the directory. */
export const apiKeyAuthenticator: Authenticator = {
  accepts: (token) => token.startsWith("plk_"),
  async authenticate(token, c) {
    if (token.length > 200) return null;
    const cacheKey = isolateDigest(token);
    const now = c.get("clock").now().getTime();
    const cached = keyCache.get(cacheKey);
    let principal = cached && now - cached.at < KEY_CACHE_TTL_MS && now >= cached.at ? cached.principal : undefined;
    if (!principal) {
      const hash = await sha256Hex(token);
      const tenantId = await keyIndex(c.env.DB).tenantOf(hash);
      if (!tenantId) return null;
      const key = await directory(c.env, tenantId).verifyKey({ hash, now: isoNow(c.get("clock")) });
      if (!key) return null;
      principal = {
        kind: "api_key",
        id: key.id,
        tenantId,
        name: key.name,
        prefix: key.prefix,
        scopes: key.scopes,
        // What the key may do: its scopes as far as its creator chain holds them now (key-reach.ts).
        grants: effectiveGrants(key.scopes, key.caps, c.get("platform").permissions),
        expiresAt: key.expires_at,
      };
      keyCache.set(cacheKey, { principal, at: now });
    }
    // Checked on every request, cached or not: an expiring key never works past its expiry.
    if (principal.expiresAt !== null && principal.expiresAt <= isoNow(c.get("clock"))) return null;
    if (!touched.get(principal.id)) {
      touched.set(principal.id, true);
      const { id, tenantId } = principal;
      background(
        c,
        directory(c.env, tenantId)
          .touchKey({ id, now: isoNow(c.get("clock")) })
          .catch(() => touched.delete(id)),
      );
    }
    return principal;
  },
};

/**
 * The `iss` of access tokens for this request: JWT_ISSUER, else
 * https://PLATFORM_DOMAIN, else the request's origin with any tenant label
 * taken off (in development `<slug>.localhost` is the tenant's host), so every
 * tenant's host issues and accepts one issuer and a token on another tenant's
 * host meets the tenant check (403 tenant_mismatch) instead of an issuer it
 * never had (401).
 */
export function issuerOf(c: Context<AppEnv>): string {
  const { jwtIssuer, tenantDomain } = c.get("config");
  if (jwtIssuer) return jwtIssuer;
  const url = new URL(c.req.url);
  if (tenantDomain && hostName(url).endsWith(`.${tenantDomain}`)) url.hostname = tenantDomain;
  return url.origin;
}

/**
 * JWT access tokens: verified without the directory (signature, alg, iss,
 * aud, exp), then checked against the user's current roles and live
 * sessions, cached per isolate for at most 10 s.
 */
export const jwtAuthenticator: Authenticator = {
  accepts: (token) => token.startsWith("eyJ") && token.split(".").length === 3,
  async authenticate(token, c) {
    const issuer = issuerOf(c);
    const keys = await loadSigningKeys(c.get("config").jwtSigningKeys);
    const tokenKey = isolateDigest(token);
    const cached = verifiedTokens.get(tokenKey);
    // Reused only under the same key set and issuer: removing a compromised key takes effect at once.
    let claims = cached && cached.keys === keys && cached.claims.iss === issuer ? cached.claims : undefined;
    if (!claims) {
      const verified = await verifyAccessToken(keys, token, { issuer });
      if (!verified.ok) return null;
      claims = verified.claims;
      verifiedTokens.set(tokenKey, { claims, keys }, claims.exp * 1000 - c.get("clock").now().getTime());
    }
    const { sub, tid, sid } = claims;
    const cacheKey = `${tid}/${sub}`;
    const now = c.get("clock").now().getTime();
    let known = userCache.get(cacheKey);
    // Aged by the request's clock as well, so the bound holds under any injected clock (tests move it, not wait).
    if (known === undefined || now - known.at >= USER_CACHE_TTL_MS || now < known.at) {
      known = { user: await directory(c.env, tid).principal(sub), at: now };
      userCache.set(cacheKey, known);
    }
    const { user } = known;
    // Every token plinth issues names its session, so one without `sid` was not made by login or
    // refresh: refused, or it would outlive a logout and a password change.
    if (!user || sid === undefined || !user.families.includes(sid)) return null;
    return { kind: "user", id: sub, tenantId: tid, roles: user.roles, grants: user.grants, sessionId: sid };
  },
};
