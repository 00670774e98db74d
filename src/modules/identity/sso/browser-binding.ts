import { base64UrlEncode, randomToken, timingSafeEqual } from "../../../kernel/crypto";
import { AppError } from "../../../kernel/errors";

/**
 * Binds a sign-in begun by a browser's navigation (`GET /auth/sso/start`) to that browser, against
 * login CSRF (RFC 6749 §10.12, RFC 9700 §4.7): someone who starts a sign-in into their own account,
 * stops at the provider's redirect and sends a victim the callback URL (their code, their state)
 * would otherwise sign the victim's browser into their account. The start sets a random nonce in
 * this cookie and seals a digest of it into the state (state.ts); the callback refuses a bound state
 * whose browser does not send the same nonce back (`sso_browser_mismatch`).
 *
 * `__Host-`: only the tenant's own origin sets or reads it (Secure, `Path=/`, no `Domain`), so
 * another tenant's subdomain cannot plant one. HttpOnly: no script of the app reads it.
 * `SameSite=Lax`: the provider's redirect back is a top-level GET navigation from another site,
 * which Lax lets through and cross-site subrequests do not.
 */
export const SSO_BROWSER_COOKIE = "__Host-plinth-sso";

const encoder = new TextEncoder();

/** The digest of a nonce the sealed state keeps: the state never carries the cookie's value. */
export async function browserTagOf(nonce: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`plinth sso browser\u0000${nonce}`));
  return base64UrlEncode(new Uint8Array(digest).slice(0, 16));
}

/** A new binding: the nonce for the cookie and the digest for the state. */
export async function newBrowserBinding(): Promise<{ nonce: string; tag: string }> {
  const nonce = randomToken();
  return { nonce, tag: await browserTagOf(nonce) };
}

const ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Lax";

/** The `Set-Cookie` of a start: the nonce, for as long as the state it is bound to opens. */
export const bindingCookie = (nonce: string, maxAgeSeconds: number) =>
  `${SSO_BROWSER_COOKIE}=${nonce}; Max-Age=${maxAgeSeconds}; ${ATTRIBUTES}`;

/** The `Set-Cookie` of a callback that used the binding: its sign-in is over, whatever the outcome. */
export const clearedBindingCookie = () => `${SSO_BROWSER_COOKIE}=; Max-Age=0; ${ATTRIBUTES}`;

/**
 * Whether the browser's cookie (`presented`, absent when it sent none) is the nonce whose digest the
 * state sealed: compared in constant time, digest to digest, so neither length nor prefix leaks.
 */
export async function browserMatches(sealedTag: string, presented: string | undefined): Promise<boolean> {
  if (presented === undefined || presented === "") return false;
  return timingSafeEqual(await browserTagOf(presented), sealedTag);
}

/**
 * A refusal of a callback that used the binding, carrying the cookie's clearing: that sign-in is over
 * (its state spent, or its provider's answer refused) whatever went wrong after the browser matched.
 * Other errors (a bug: `internal`) pass as they are.
 */
export function withBindingCleared(error: unknown): unknown {
  if (!(error instanceof AppError)) return error;
  return new AppError(error.code, {
    detail: error.detail,
    errors: error.errors,
    headers: { ...error.headers, "Set-Cookie": clearedBindingCookie() },
    extensions: error.extensions,
    cause: error.cause,
    spec: { status: error.status, title: error.title },
  });
}
