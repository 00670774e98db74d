/**
 * A signed download URL's request side: how long one may live, its query,
 * the tenant it names checked against the request's, and the keys it is
 * signed and verified with. The routes that mint and serve it are routes.ts's;
 * the signature itself is signing.ts's.
 */
import { z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { tenantOf } from "../../kernel/auth/guards";
import type { AppEnv } from "../../kernel/env";
import { AppError } from "../../kernel/errors";

/** The longest and the default life of a signed download URL, in seconds. */
export const MAX_URL_SECONDS = 7 * 86_400;
export const DEFAULT_URL_SECONDS = 900;

/**
 * A signed URL's `exp` (unix seconds) for one asked to live `seconds` from `now`: the
 * second boundary at or after `now + seconds`, so it lives at least what was asked (less than
 * a second more) and `expires_at`, `exp` as a time, is the instant it stops working.
 * Rounding `now` down made `expires_in: 1` a URL that lived as little as a millisecond.
 *
 * @example
 * expiryOf(new Date("2026-01-01T00:00:10.400Z"), 1); // 1767225612 (…:12.000Z)
 */
export const expiryOf = (now: Date, seconds: number): number => Math.ceil(now.getTime() / 1000) + seconds;

/**
 * A whole number as a signed URL spells it: decimal digits without a leading zero, what
 * `String(n)` writes when the URL is made. The signature covers the number, not its
 * spelling, so a lenient parse (`Number`: `01`, `1e3`, `1.0`, `+1`, ` 1`, `0x1`) would let one
 * URL verify under many; only the one it was signed in passes.
 */
const canonicalInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]*)$/, "decimal digits without a leading zero, as the URL was signed")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A signed URL's query: its tenant, expiry, key version and signature, each in the one spelling it is signed in. */
export const SignedQuery = z.object({
  tenant: z.string().min(1).max(64).openapi({ description: "the tenant the URL was signed for" }),
  exp: canonicalInt(0, 2 ** 40).openapi({ description: "expiry, unix seconds (digits, no leading zero)" }),
  kv: canonicalInt(1, 1_000_000).openapi({ description: "the signing key's version (digits, no leading zero)" }),
  sig: z.string().min(1).max(128).openapi({ description: "HMAC-SHA256, base64url" }),
});

/**
 * The signed URL names its tenant (`?tenant=`): a tenant source like
 * `X-Tenant`, so none at all is 400 `tenant_required`, and one that
 * disagrees with the subdomain or `X-Tenant` is 403 `tenant_mismatch`.
 */
export const signedTenant: MiddlewareHandler<AppEnv> = async (c, next) => {
  const named = c.req.query("tenant");
  const resolved = c.get("tenant");
  if (named === undefined && !resolved) tenantOf(c);
  if (named !== undefined && resolved && resolved.id !== named) {
    throw new AppError("tenant_mismatch", { detail: "the signed URL is for another tenant" });
  }
  await next();
};

/** The master keys signed URLs are derived from; 503 naming the missing configuration without them. */
export function signingKeys(c: Context<AppEnv>): string {
  const keys = c.get("config").encryptionKeys;
  if (!keys) {
    throw new AppError("unavailable", {
      detail: "signed file URLs need ENCRYPTION_KEYS (their keys derive from it); see docs/files.md",
    });
  }
  return keys;
}

/** A signed URL's values, once parsed. */
type SignedValues = { tenant: string; exp: number; kv: number; sig: string };

/** The path and query of a signed download URL, as the URL is minted: the one form a download accepts. */
export function signedPath(fileId: string, q: SignedValues): string {
  const query = new URLSearchParams({ tenant: q.tenant, exp: String(q.exp), kv: String(q.kv), sig: q.sig });
  return `/api/v1/files/${fileId}/download?${query}`;
}

/**
 * Refuses (400 `validation_failed`) a signed download whose URL is not, character for
 * character, the one minted for its values. Parsing decodes percent-escapes (`exp=%31…`,
 * `t%65nant=`, an escaped file id in the path), ignores parameter order and drops parameters
 * it does not know (`&download=1`), so each of those verified under the one signature: one
 * signed URL was many, and a cache key, a log line or a deny-list entry for one missed the others.
 */
export function requireMintedForm(requestUrl: string, fileId: string, q: SignedValues): void {
  const url = new URL(requestUrl);
  if (`${url.pathname}${url.search}` === signedPath(fileId, q)) return;
  throw new AppError("validation_failed", {
    detail: "the signed URL is not in the form it was minted in: use it exactly as POST /files/{id}/url answered it",
    errors: [{ path: "query", message: "must be tenant, exp, kv and sig, in that order, unescaped, and nothing else" }],
  });
}
