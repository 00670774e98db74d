import type { Context } from "hono";
import * as oauth from "oauth4webapi";
import { isoIn } from "../../../kernel/clock";
import { sha256Hex } from "../../../kernel/crypto";
import type { AppEnv } from "../../../kernel/env";
import { AppError, moduleError } from "../../../kernel/errors";
import type { directory } from "../directory/contract";
import type { DirectoryProof } from "../directory/two-factor";
import { identityErrors } from "../errors";
import { enrolmentRequired, identityError } from "../refusals";
import { ctxOf } from "../services";
import { adminPermissions } from "../two-factor";
import { authorizationUrl, type OidcClient, type OidcDeps } from "./client";
import { SsoFailure } from "./failures";
import type { SsoStored } from "./schemas";
import { ssoOutboundPolicy } from "./secrets";

/** A sign-in under way is kept this long: enough to log in at the provider, short enough to be useless later. */
const STATE_TTL_MS = 10 * 60_000;

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
 * Starts a sign-in at the tenant's provider: checks the app redirect against the
 * provider's list, builds the authorization URL (code flow, PKCE S256, state,
 * nonce) and has the directory remember the sign-in under way, with the account
 * to link when a signed-in user began it. Returns the URL to send the browser to.
 */
export async function beginSignIn(
  c: Context<AppEnv>,
  dir: ReturnType<typeof directory>,
  stored: SsoStored,
  options: {
    appRedirect: string | null;
    redirectPath: string;
    link: { userId: string; proof: DirectoryProof | null } | null;
  },
): Promise<string> {
  const { appRedirect } = options;
  if (appRedirect !== null && !stored.config.app_redirect_uris.includes(appRedirect)) {
    throw new AppError("validation_failed", {
      detail: "redirect_uri is not one of the tenant's app_redirect_uris",
      errors: [{ path: options.redirectPath, message: "not allowed" }],
    });
  }
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  let location: string;
  try {
    location = await authorizationUrl(clientOf(stored, ""), ssoDeps(c), {
      redirectUri: callbackUrl(c.req.url),
      state,
      nonce,
      codeVerifier,
    });
  } catch (error) {
    throw ssoFailure(SsoFailure.from(error, "discovery"));
  }
  const begun = await dir.ssoBegin({
    ctx: ctxOf(c),
    stateHash: await sha256Hex(state),
    nonce,
    codeVerifier,
    appRedirect,
    expiresAt: isoIn(c.get("clock"), STATE_TTL_MS),
    link: options.link,
    adminPermissions: adminPermissions(c),
  });
  if (!begun.ok && begun.error === "wrong_proof") {
    throw identityError("wrong_two_factor_code", "the code is wrong or was already used");
  }
  if (!begun.ok && begun.error === "two_factor_required") throw enrolmentRequired();
  if (!begun.ok) throw notConfigured();
  if (begun.value.evicted > 0) {
    // Real sign-ins never fill the table (MAX_OPEN_STATES): someone is starting sign-ins in bulk.
    c.get("log").warn("sign-ins under way past the tenant's bound: the oldest forgotten", {
      evicted: begun.value.evicted,
    });
  }
  return location;
}
