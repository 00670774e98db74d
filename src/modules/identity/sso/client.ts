import * as oauth from "oauth4webapi";
import { TtlCache } from "../../../kernel/cache/ttl-cache";
import { type Clock, systemClock } from "../../../kernel/clock";
import { type OutboundPolicy, type Resolver, safeFetch } from "../../../kernel/outbound";
import type { Sleeper } from "../../../kernel/resilience/sleep";
import { SsoFailure } from "./failures";

/** What the OIDC client needs from its caller: the outbound rules, DNS, and the injected clock. */
/** `sleeper` counts each request's timeout (the platform's; safeFetch's real timers unless given). */
export type OidcDeps = { policy: OutboundPolicy; resolver: Resolver; clock: Clock; sleeper?: Sleeper };

/** The provider as plinth uses it: discovered metadata and its JWKS cache (per isolate). */
type Discovered = { as: oauth.AuthorizationServer; jwks: oauth.JWKSCacheInput };

// Per-isolate cache of discovery documents (the one documented kind of module-level state):
// a provider's metadata rarely changes, and a sign-in should not cost two round trips.
const DISCOVERY_TTL_MS = 5 * 60_000;
const discovered = new TtlCache<string, Discovered>({ ttlMs: DISCOVERY_TTL_MS, maxEntries: 1_000 });

const TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 256 * 1024;

/**
 * oauth4webapi's fetch hook over the kernel's `safeFetch`: every request to
 * the provider (discovery, token endpoint, JWKS) is checked against the
 * outbound rules, capped in time and size, and never follows a redirect.
 * safeFetch returns its own response shape (the body read as text), so it
 * is wrapped back into a `Response`.
 */
function outboundFetch(deps: OidcDeps) {
  return async (
    url: string,
    options: oauth.CustomFetchOptions<"GET" | "POST", URLSearchParams | undefined>,
  ): Promise<Response> => {
    const body = options.body;
    const res = await safeFetch(
      url,
      {
        method: options.method,
        headers: options.headers,
        body: body === undefined ? undefined : body.toString(),
        timeoutMs: TIMEOUT_MS,
        maxResponseBytes: MAX_RESPONSE_BYTES,
        signal: options.signal ?? undefined,
      },
      { policy: deps.policy, resolver: deps.resolver, ...(deps.sleeper ? { sleeper: deps.sleeper } : {}) },
    );
    if (res.truncated) throw new SsoFailure("sso_provider_error", "the identity provider's response is too large");
    const empty = res.body === "" || [204, 205, 304].includes(res.status);
    return new Response(empty ? null : res.body, { status: res.status, headers: res.headers });
  };
}

function requestOptions(deps: OidcDeps) {
  return {
    [oauth.customFetch]: outboundFetch(deps),
    // http only reaches loopback, and only in development and test: safeFetch refuses the rest.
    [oauth.allowInsecureRequests]: deps.policy.development,
  };
}

/** The offset of the injected clock from the system's, in seconds: oauth4webapi checks times against `now + skew`. */
const skewSeconds = (clock: Clock): number => Math.round((clock.now().getTime() - systemClock.now().getTime()) / 1000);

/**
 * The provider's metadata from `<issuer>/.well-known/openid-configuration`,
 * cached 5 minutes per isolate. The document must name the same issuer.
 */
export async function discover(issuer: string, deps: OidcDeps): Promise<Discovered> {
  const cached = discovered.get(issuer);
  if (cached) return cached;
  const url = new URL(issuer);
  try {
    const response = await oauth.discoveryRequest(url, { ...requestOptions(deps), algorithm: "oidc" });
    const as = await oauth.processDiscoveryResponse(url, response);
    const found: Discovered = { as, jwks: {} };
    discovered.set(issuer, found);
    return found;
  } catch (error) {
    throw SsoFailure.from(error, "discovery");
  }
}

/** Forgets a provider's cached metadata (its configuration changed). */
export const forgetProvider = (issuer: string): void => discovered.delete(issuer);

/** A client of the tenant's provider. */
export type OidcClient = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  authMethod: "client_secret_basic" | "client_secret_post";
};

/** The authorization endpoint URL for a sign-in: code flow, PKCE S256, `state` and `nonce`. */
export async function authorizationUrl(
  client: OidcClient,
  deps: OidcDeps,
  params: { redirectUri: string; state: string; nonce: string; codeVerifier: string },
): Promise<string> {
  const { as } = await discover(client.issuer, deps);
  if (!as.authorization_endpoint) {
    throw new SsoFailure("sso_provider_error", "the identity provider names no authorization endpoint");
  }
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", client.clientId);
  url.searchParams.set("redirect_uri", params.redirectUri);
  url.searchParams.set("scope", "openid email profile");
  url.searchParams.set("state", params.state);
  url.searchParams.set("nonce", params.nonce);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(params.codeVerifier));
  url.searchParams.set("code_challenge_method", "S256");
  return url.href;
}

/**
 * The callback's work: checks the authorization response (its `state`, and
 * `iss` when the provider sends it), exchanges the code at the token
 * endpoint, and validates the ID token: signature from the provider's JWKS,
 * issuer, audience (the client id), nonce, and expiry against the injected
 * clock. Returns its claims. `answered` runs once the token endpoint accepted
 * the code (a 2xx), before the ID token is looked at: the caller spends the
 * state there, so only a sign-in the provider took part in can spend one.
 */
export async function completeSignIn(
  client: OidcClient,
  deps: OidcDeps,
  callback: {
    url: URL;
    state: string;
    redirectUri: string;
    nonce: string;
    codeVerifier: string;
    answered: () => Promise<void>;
  },
): Promise<oauth.IDToken> {
  const { as, jwks } = await discover(client.issuer, deps);
  const c: oauth.Client = { client_id: client.clientId, [oauth.clockSkew]: skewSeconds(deps.clock) };
  const auth =
    client.authMethod === "client_secret_post"
      ? oauth.ClientSecretPost(client.clientSecret)
      : oauth.ClientSecretBasic(client.clientSecret);
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, c, callback.url, callback.state);
  } catch (error) {
    throw SsoFailure.from(error, "authorization");
  }
  let response: Response;
  try {
    response = await oauth.authorizationCodeGrantRequest(
      as,
      c,
      auth,
      params,
      callback.redirectUri,
      callback.codeVerifier,
      requestOptions(deps),
    );
  } catch (error) {
    throw SsoFailure.from(error, "token");
  }
  if (response.ok) await callback.answered();
  try {
    const result = await oauth.processAuthorizationCodeResponse(as, c, response, {
      expectedNonce: callback.nonce,
      requireIdToken: true,
    });
    await oauth.validateApplicationLevelSignature(as, response, { ...requestOptions(deps), [oauth.jwksCache]: jwks });
    const claims = oauth.getValidatedIdTokenClaims(result);
    if (!claims) throw new SsoFailure("sso_id_token_invalid", "the provider returned no ID token");
    return claims;
  } catch (error) {
    throw SsoFailure.from(error, "id_token");
  }
}
