import type { Context } from "hono";
import * as oauth from "oauth4webapi";
import { isoIn } from "../../../kernel/clock";
import type { AppEnv } from "../../../kernel/env";
import { AppError, moduleError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { passwordChanged } from "../account-proof";
import type { directory } from "../directory/contract";
import type { DirectoryProof } from "../directory/two-factor";
import { identityErrors } from "../errors";
import { enrolmentRequired, identityError } from "../refusals";
import { adminPermissions } from "../two-factor";
import { authorizationUrl, type OidcClient, type OidcDeps } from "./client";
import { SsoFailure } from "./failures";
import type { SsoStored } from "./schemas";
import { ssoEnvelope, ssoOutboundPolicy } from "./secrets";
import { codeVerifierOf, nonceOf, providerTag, sealState } from "./state";

/** A sign-in under way is kept this long: enough to log in at the provider, short enough to be useless later. */
export const STATE_TTL_MS = 10 * 60_000;

/** The callback URL registered at the provider: this origin, so the tenant's subdomain comes back with the browser. */
export const callbackUrl = (requestUrl: string) => `${new URL(requestUrl).origin}/api/v1/auth/sso/callback`;

export const clientOf = (stored: SsoStored, clientSecret: string): OidcClient => ({
  issuer: stored.config.issuer,
  clientId: stored.config.client_id,
  clientSecret,
  authMethod: stored.config.token_endpoint_auth_method,
});

export const ssoDeps = (c: Context<AppEnv>): OidcDeps => ({
  policy: ssoOutboundPolicy(c),
  resolver: c.get("resolver"),
  clock: c.get("clock"),
  sleeper: c.get("sleeper"),
});

/** A refused sign-in step, as problem+json: our own words, never the provider's. */
export const ssoFailure = (f: SsoFailure) => new AppError(f.code, { detail: f.detail, spec: identityErrors[f.code] });
export const notConfigured = () =>
  moduleError(identityErrors, "sso_not_configured", { detail: "this tenant has no identity provider configured" });

/**
 * Starts a sign-in at the tenant's provider: checks the app redirect against the provider's list,
 * has the directory check an explicit link's proof (a signed-in user linking their account), seals
 * the sign-in under way into `state` (state.ts: nothing is stored until a callback the provider
 * answered spends it; bound to the starting browser when `browser` is given) and builds the
 * authorization URL (code flow, PKCE S256, state, nonce).
 * Returns the URL to send the browser to.
 */
export async function beginSignIn(
  c: Context<AppEnv>,
  dir: ReturnType<typeof directory>,
  stored: SsoStored,
  options: {
    appRedirect: string | null;
    redirectPath: string;
    link: { userId: string; proof: DirectoryProof | null; verifiedHash: string } | null;
    /** The digest of the nonce set in the starting browser's cookie (browser-binding.ts), or null. */
    browser: string | null;
  },
): Promise<string> {
  const { appRedirect, link } = options;
  if (appRedirect !== null && !stored.config.app_redirect_uris.includes(appRedirect)) {
    throw new AppError("validation_failed", {
      detail: "redirect_uri is not one of the tenant's app_redirect_uris",
      errors: [{ path: options.redirectPath, message: "not allowed" }],
    });
  }
  let proven: { secondFactor: boolean; recoveryHash: string | null } = { secondFactor: false, recoveryHash: null };
  if (link) {
    const begun = await dir.ssoBegin({ ctx: originOf(c), link, adminPermissions: adminPermissions(c) });
    if (!begun.ok && begun.error === "wrong_proof") {
      throw identityError("wrong_two_factor_code", "the code is wrong or was already used");
    }
    if (!begun.ok && begun.error === "two_factor_required") throw enrolmentRequired();
    if (!begun.ok && begun.error === "password_changed") throw passwordChanged();
    if (!begun.ok) throw notConfigured();
    proven = begun.value;
  }
  const seed = oauth.generateRandomCodeVerifier();
  const state = await sealState(ssoEnvelope(c), await providerTag(stored.config.issuer, stored.config.client_id), {
    seed,
    expiresAt: isoIn(c.get("clock"), STATE_TTL_MS),
    appRedirect,
    linkUserId: link?.userId ?? null,
    linkRecoveryHash: proven.recoveryHash,
    linkSecondFactor: proven.secondFactor,
    browser: options.browser,
  });
  try {
    return await authorizationUrl(clientOf(stored, ""), ssoDeps(c), {
      redirectUri: callbackUrl(c.req.url),
      state,
      nonce: await nonceOf(seed),
      codeVerifier: codeVerifierOf(seed),
    });
  } catch (error) {
    throw ssoFailure(SsoFailure.from(error, "discovery"));
  }
}
