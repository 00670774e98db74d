import { z } from "zod";
import { base64UrlEncode, sha256Hex } from "../../../kernel/crypto";
import { sealedVersion } from "../../../kernel/crypto/envelope";
import type { TenantSealer } from "../../../kernel/crypto/tenant-envelope";
import { unsealFailureReason } from "../../../kernel/crypto/unseal-failures";

/**
 * A sign-in under way, carried by the `state` parameter itself rather than stored: sealed with the
 * tenant's envelope key (XChaCha20-Poly1305, the tenant id and {@link SSO_STATE_FIELD} as associated
 * data), so only this tenant's callback opens it and nobody can read or alter it on its way through
 * the browser and the provider. A start therefore writes nothing: an anonymous caller starting sign-ins
 * in bulk from many addresses can no longer fill a table and push a real user's sign-in out of it.
 * Single use is kept by the directory's table of spent states (directory/sso.ts), which only a callback
 * the provider answered writes.
 */
export const SSO_STATE_FIELD = "identity.sso.state";

/** The longest `state` the callback accepts (routes/sso.ts): what {@link sealState} must stay within. */
export const MAX_STATE_LENGTH = 512;

/** What the callback needs back. `seed` gives the PKCE verifier and the nonce (below). */
export type PendingSignIn = {
  seed: string;
  /** ISO time after which the callback refuses it. */
  expiresAt: string;
  appRedirect: string | null;
  /** An explicit link: the account whose user began it (signed in), else null. */
  linkUserId: string | null;
  /** The recovery code that link was begun with (its hash), spent only if the callback links. */
  linkRecoveryHash: string | null;
  /** Whether that link's request proved a second factor (else the callback asks the second step). */
  linkSecondFactor: boolean;
  /**
   * The digest of the nonce in the cookie of the browser that began it (browser-binding.ts): a start
   * by navigation is bound, and its callback refuses a browser without that cookie. Null for an
   * explicit link, begun by an app's fetch that can set no cookie in the user's browser.
   */
  browser: string | null;
};

// Short keys: the sealed state travels in two URLs, and providers keep `state` as they got it.
const Sealed = z.object({
  s: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  e: z.iso.datetime(),
  p: z.string(),
  r: z.string().nullable(),
  u: z.string().min(1).max(64).nullable(),
  h: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  f: z.boolean(),
  // Required: a state sealed before browsers were bound does not open (a start by navigation must be bound).
  b: z
    .string()
    .regex(/^[A-Za-z0-9_-]{22}$/)
    .nullable(),
});

const encoder = new TextEncoder();

/** A short digest naming a value without carrying it (an app redirect up to 2 KiB, the provider). */
async function tag(label: string, value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`plinth sso ${label}\u0000${value}`));
  return base64UrlEncode(new Uint8Array(digest).slice(0, 16));
}

/** The provider a state was begun for: a state begun before the provider was replaced does not open for the new one. */
export const providerTag = (issuer: string, clientId: string) => tag("provider", `${issuer}\u0000${clientId}`);

/** The PKCE verifier: the seed itself (43 base64url characters, 256 random bits, as RFC 7636 asks). */
export const codeVerifierOf = (seed: string): string => seed;

/**
 * What the directory's table of spent states is keyed by: a digest of the seed, which one sealing
 * made and the AEAD authenticates. Not the `state` string: the envelope opens other spellings of
 * the same ciphertext (its key version with leading zeros, `v01.` for `v1.`), and a respelt copy
 * of a spent state would hash to a key never spent, and sign in again.
 */
export const spentIdOf = (seed: string): Promise<string> => sha256Hex(`plinth sso spent\u0000${seed}`);

/** The nonce, derived from the seed (one-way), so the state carries one secret rather than two. */
export const nonceOf = (seed: string): Promise<string> => tag("nonce", seed).then((t) => `n${t}`);

/** Seals a sign-in under way for the sealer's tenant and the provider `provider` (providerTag) into a `state` value. */
export async function sealState(envelope: TenantSealer, provider: string, pending: PendingSignIn): Promise<string> {
  const payload: z.infer<typeof Sealed> = {
    s: pending.seed,
    e: pending.expiresAt,
    p: provider,
    r: pending.appRedirect === null ? null : await tag("redirect", pending.appRedirect),
    u: pending.linkUserId,
    h: pending.linkRecoveryHash,
    f: pending.linkSecondFactor,
    b: pending.browser,
  };
  const state = await envelope.encrypt(SSO_STATE_FIELD, JSON.stringify(payload));
  if (state.length > MAX_STATE_LENGTH) throw new Error(`a sealed sign-in state of ${state.length} characters`);
  return state;
}

/**
 * Opens a `state` sealed for the sealer's tenant: null when it is not one (forged, altered, another tenant's,
 * sealed under a key version or key material that is gone),
 * was begun for another provider, has expired at `now`, or names an app redirect the provider no
 * longer lists (`appRedirects`: an owner who removed one does not want tokens sent there).
 */
export async function openState(
  envelope: TenantSealer,
  state: string,
  expect: { provider: string; now: string; appRedirects: readonly string[] },
): Promise<PendingSignIn | null> {
  if (sealedVersion(state) === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(await envelope.decryptText(SSO_STATE_FIELD, state));
  } catch (error) {
    // A state that does not open is refused; a directory that did not answer (the tenant's seed) is
    // an outage, not a bad state, and stays one.
    if (error instanceof SyntaxError || unsealFailureReason(error) !== null) return null;
    throw error;
  }
  const parsed = Sealed.safeParse(json);
  if (!parsed.success) return null;
  const sealed = parsed.data;
  if (sealed.p !== expect.provider || sealed.e <= expect.now) return null;
  let appRedirect: string | null = null;
  if (sealed.r !== null) {
    const tags = await Promise.all(expect.appRedirects.map((uri) => tag("redirect", uri)));
    appRedirect = expect.appRedirects[tags.indexOf(sealed.r)] ?? null;
    if (appRedirect === null) return null;
  }
  return {
    seed: sealed.s,
    expiresAt: sealed.e,
    appRedirect,
    linkUserId: sealed.u,
    linkRecoveryHash: sealed.h,
    linkSecondFactor: sealed.f,
    browser: sealed.b,
  };
}
