import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type * as oauth from "oauth4webapi";
import { tenantOf } from "../../../kernel/auth/guards";
import { isoIn, isoNow } from "../../../kernel/clock";
import { newId } from "../../../kernel/crypto";
import type { AppEnv } from "../../../kernel/env";
import { moduleError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { DisplayName, jsonResponse } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { enforce } from "../../../kernel/ratelimit/limiter";
import { clientIp } from "../../../kernel/ratelimit/middleware";
import { normaliseEmail } from "../../../kernel/text/email-address";
import { evictUser } from "../authenticators";
import { directory } from "../directory/contract";
import { clampUserAgent } from "../directory/sessions";
import { SSO_EMAIL_MAX, SSO_SUBJECT_MAX } from "../directory/sso-contract";
import { identityErrors } from "../errors";
import { TokenPairSchema } from "../schemas";
import { newSecret } from "../services";
import { beginSignIn, callbackUrl, clientOf, notConfigured, STATE_TTL_MS, ssoDeps, ssoFailure } from "../sso/begin";
import {
  bindingCookie,
  browserMatches,
  clearedBindingCookie,
  newBrowserBinding,
  SSO_BROWSER_COOKIE,
  withBindingCleared,
} from "../sso/browser-binding";
import { completeSignIn } from "../sso/client";
import { SsoFailure } from "../sso/failures";
import { domainAllowed, rolesFor } from "../sso/mapping";
import { domainNotAllowed, signInRefusal } from "../sso/refusals";
import type { SsoStored } from "../sso/schemas";
import { openClientSecret, ssoEnvelope } from "../sso/secrets";
import { codeVerifierOf, nonceOf, openState, type PendingSignIn, providerTag, spentIdOf } from "../sso/state";
import { tokenPair } from "../token-pair";
import { adminPermissions, CHALLENGE_TTL_S } from "../two-factor";
import { TwoFactorChallengeSchema } from "./two-factor-login";

const op = operations(["auth"]);

const tenantHeader = z.object({ "x-tenant": z.string().optional() });

const start = op.get("/auth/sso/start", {
  operationId: "startSso",
  summary: "Start a single sign-on at the tenant's identity provider (redirects the browser)",
  access: "tenant",
  request: {
    headers: tenantHeader,
    query: z.object({
      redirect_uri: z.string().max(2048).optional().openapi({
        description: "where to send the browser afterwards, one of the provider's app_redirect_uris",
      }),
    }),
  },
  responses: {
    302: {
      description: "to the provider's authorization endpoint (code flow, PKCE S256, state, nonce)",
      headers: {
        "Set-Cookie": {
          description:
            "`__Host-plinth-sso`: the nonce that binds the sign-in to this browser (Secure, HttpOnly, SameSite=Lax, Path=/, Max-Age=600); its callback is refused without it (sso_browser_mismatch)",
          required: true,
          schema: { type: "string" },
        },
      },
    },
    400: problem("redirect_uri is not one the tenant allows, or the provider cannot be used"),
    404: problem("no provider configured (sso_not_configured)"),
    429: problem("too many requests from this address (rate_limited; Retry-After)"),
  },
});

/**
 * An explicit link's callback answer: the identity is linked, and no session is handed out. Its user is
 * signed in already, in the app that began the link; and its state is bound to no browser, so tokens
 * here would sign whoever opened the URL into the account (login CSRF: docs/identity.md).
 */
const SsoLinkedSchema = z
  .object({
    linked: z.literal(true),
    issuer: z.string().openapi({ description: "the provider whose identity is now linked to the account" }),
  })
  .openapi("SsoLinked");

const callback = op.get("/auth/sso/callback", {
  operationId: "ssoCallback",
  summary:
    "Where the identity provider sends the browser back: verifies the sign-in and issues tokens (an explicit link's: links, no tokens)",
  access: "tenant",
  request: {
    headers: tenantHeader,
    cookies: z.object({
      [SSO_BROWSER_COOKIE]: z.string().max(512).optional().openapi({
        description:
          "set by /auth/sso/start in the browser that began the sign-in; a state begun there is refused without it (sso_browser_mismatch)",
      }),
    }),
    query: z.object({
      state: z.string().max(512).optional(),
      code: z.string().max(4096).optional(),
      iss: z.string().max(2048).optional(),
      error: z.string().max(256).optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      "the token pair, as password login answers (no app redirect was asked for); for an account with two-factor on, a challenge for POST /auth/two-factor instead; for an explicit link (POST /me/sso/link), { linked: true, issuer } and no tokens",
      z.union([TokenPairSchema, TwoFactorChallengeSchema, SsoLinkedSchema]),
    ),
    302: {
      description:
        "to the app redirect named at the start, with the token pair (or the two-factor challenge; for an explicit link, linked=true&issuer=… and no tokens) in the fragment",
    },
    400: problem(
      "unknown, used or expired state, or one whose provider the tenant replaced or deleted, even while the provider answered (sso_state_invalid: start again); a state begun in another browser (sso_browser_mismatch); the provider's error; an ID token that does not validate",
    ),
    403: problem(
      "email not verified, its domain not allowed, the signup policy refuses a new user, an explicit link's identity has another email (sso_link_mismatch) or its recovery code was used since (wrong_two_factor_code), or the tenant requires two-factor of the account and it has not enrolled (two_factor_required)",
    ),
    404: problem("no provider configured (sso_not_configured)"),
    409: problem(
      "the email's account must be linked explicitly (sso_link_required), or a new user would be provisioned into a role that no longer exists (conflict)",
    ),
  },
});

const badState = () =>
  moduleError(identityErrors, "sso_state_invalid", { detail: "the sign-in state is unknown, used or expired" });

/** `/api/v1/auth/sso/*`: single sign-on through the tenant's OpenID Connect provider. */
export const ssoRoutes = createRouter()
  .openapi(start, async (c) => {
    const tenant = tenantOf(c);
    await enforce(c, "login_ip", clientIp(c));
    const dir = directory(c.env, tenant.id);
    const stored = await dir.ssoProvider();
    if (!stored) throw notConfigured();
    // A navigation's start: bound to this browser by a cookie, so only it completes the sign-in.
    const binding = await newBrowserBinding();
    const location = await beginSignIn(c, dir, stored, {
      appRedirect: c.req.valid("query").redirect_uri ?? null,
      redirectPath: "query.redirect_uri",
      link: null,
      browser: binding.tag,
    });
    c.header("Cache-Control", "no-store");
    c.header("Set-Cookie", bindingCookie(binding.nonce, STATE_TTL_MS / 1000));
    c.header("Location", location);
    return c.body(null, 302);
  })
  .openapi(callback, async (c) => {
    const tenant = tenantOf(c);
    await enforce(c, "login_ip", clientIp(c));
    const { state } = c.req.valid("query");
    if (!state) throw badState();
    const dir = directory(c.env, tenant.id);
    // A state is sealed for the provider it began at: with none configured now, none opens.
    const stored = await dir.ssoProvider();
    if (!stored) throw badState();
    const opened = await openState(ssoEnvelope(c), state, {
      provider: await providerTag(stored.config.issuer, stored.config.client_id),
      now: isoNow(c.get("clock")),
      appRedirects: stored.config.app_redirect_uris,
    });
    // Refused before the provider is asked: forged, altered, expired, or spent by an earlier callback
    // (spent by its seed, which every spelling of the same sealed state opens to: state.ts).
    if (!opened) throw badState();
    const stateHash = await spentIdOf(opened.seed);
    if (await dir.ssoStateSpent({ stateHash })) throw badState();
    const spent = { now: false };
    if (opened.browser === null) return signInWith(c, dir, stored, { state, opened, stateHash, spent });
    // Begun by a navigation: only the browser holding its cookie completes it. Another browser sent
    // someone's callback URL (login CSRF: their code, their account) is refused before the provider is
    // asked, so the state stays unspent, and the cookie of a sign-in of its own stays too.
    if (!(await browserMatches(opened.browser, c.req.valid("cookie")[SSO_BROWSER_COOKIE]))) {
      c.get("log").info("sso callback refused: the sign-in was begun in another browser", { tenant_id: tenant.id });
      throw moduleError(identityErrors, "sso_browser_mismatch", {
        detail:
          "this sign-in was started in another browser (or this browser's cookies are blocked); start it again here",
      });
    }
    // This browser's sign-in ends with an answer, or with a refusal once its state is spent: both clear
    // the cookie. A callback the provider refused spends nothing (a made-up code): the real one, in this
    // browser, still needs the cookie, so that refusal leaves it.
    c.header("Set-Cookie", clearedBindingCookie());
    try {
      return await signInWith(c, dir, stored, { state, opened, stateHash, spent });
    } catch (error) {
      throw spent.now ? withBindingCleared(error) : error;
    }
  });

/**
 * The callback past its state: spends it once the provider accepts the code, validates the ID token
 * and the email, and has the directory sign the person in (or answer the second step).
 */
async function signInWith(
  c: Context<AppEnv>,
  dir: ReturnType<typeof directory>,
  stored: SsoStored,
  callback: { state: string; opened: PendingSignIn; stateHash: string; spent: { now: boolean } },
) {
  const { state, opened, stateHash, spent } = callback;
  const tenant = tenantOf(c);
  const deps = ssoDeps(c);
  const client = clientOf(stored, await openClientSecret(c, stored.sealed_secret));
  let claims: oauth.IDToken;
  try {
    claims = await completeSignIn(client, deps, {
      url: new URL(c.req.url),
      state,
      redirectUri: callbackUrl(c.req.url),
      nonce: await nonceOf(opened.seed),
      codeVerifier: codeVerifierOf(opened.seed),
      // The provider accepted the code: the state is spent from here, whatever the ID token says.
      answered: async () => {
        await spendState(c, dir, stateHash, opened.expiresAt);
        spent.now = true;
      },
    });
  } catch (error) {
    throw ssoFailure(SsoFailure.from(error, "id_token"));
  }
  const email = typeof claims.email === "string" ? normaliseEmail(claims.email) : "";
  if (!email.includes("@") || claims.email_verified !== true) {
    throw ssoFailure(new SsoFailure("sso_email_unverified", "the provider did not assert a verified email address"));
  }
  // A provider's token is verified, not trusted to fit: an email or sub longer than the directory
  // keeps made it refuse the sign-in, a 500 for the person signing in (OIDC caps sub at 255 anyway).
  const tooLong = email.length > SSO_EMAIL_MAX ? "email" : claims.sub.length > SSO_SUBJECT_MAX ? "sub" : null;
  if (tooLong) {
    const max = tooLong === "email" ? SSO_EMAIL_MAX : SSO_SUBJECT_MAX;
    throw ssoFailure(
      new SsoFailure("sso_id_token_invalid", `the ID token's ${tooLong} is longer than ${max} characters`),
    );
  }
  if (!domainAllowed(stored.config, email)) {
    throw domainNotAllowed();
  }
  // The name claim is the user's own at the provider: kept only when it is a name the API itself
  // would take (no control character, line break or bidi override), else the email names them.
  const named = DisplayName.safeParse(typeof claims.name === "string" ? claims.name.trim().slice(0, 200) : "");
  const name = named.success ? named.data : email;
  // A sign-in's session, minted here; an explicit link starts none (its user is signed in already).
  const started = opened.linkUserId === null ? { familyId: newId(), refresh: await newSecret("plr") } : null;
  const challenge = await newSecret("plc");
  const result = await dir.ssoLogin({
    ctx: originOf(c),
    email,
    name,
    issuer: stored.config.issuer,
    clientId: stored.config.client_id,
    subject: claims.sub,
    roles: rolesFor(stored.config, claims),
    userId: newId(),
    session: started && { familyId: started.familyId, tokenHash: started.refresh.hash },
    userAgent: clampUserAgent(c.req.header("user-agent")),
    linkUserId: opened.linkUserId,
    linkRecoveryHash: opened.linkRecoveryHash,
    linkSecondFactor: opened.linkSecondFactor,
    adminPermissions: adminPermissions(c),
    challengeHash: challenge.hash,
    challengeExpiresAt: isoIn(c.get("clock"), CHALLENGE_TTL_S * 1000),
  });
  c.header("Cache-Control", "no-store");
  if (!result.ok && result.error === "two_factor_challenge") {
    // The account has plinth's second factor on: the same second step as after a correct password.
    const answer = { two_factor_required: true as const, challenge: challenge.token, expires_in: CHALLENGE_TTL_S };
    return handBack(c, opened.appRedirect, answer);
  }
  if (!result.ok) {
    if (result.error === "role_missing") {
      // The operator's side of the refusal (the person signing in is told no role name).
      c.get("log").warn("sso sign-in refused: the provider's role mapping names roles that no longer exist", {
        tenant_id: tenant.id,
        issuer: stored.config.issuer,
        missing_roles: result.roles,
      });
    }
    throw signInRefusal(result);
  }
  const { principal, session } = result.value;
  evictUser(tenant.id, principal.id);
  // An explicit link hands out no session: its user is signed in already, in the app that began it.
  if (!session || !started) return handBack(c, opened.appRedirect, { linked: true, issuer: stored.config.issuer });
  return handBack(
    c,
    opened.appRedirect,
    await tokenPair(c, tenant.id, principal, started.familyId, started.refresh.token),
  );
}

/**
 * Spends a state the provider answered (single use), or refuses a callback that lost a race with
 * another for it. Spent states past the directory's bound forget the ones expiring first: logged.
 */
async function spendState(c: Context<AppEnv>, dir: ReturnType<typeof directory>, stateHash: string, expiresAt: string) {
  const spent = await dir.ssoSpendState({ ctx: originOf(c), stateHash, expiresAt });
  if (!spent.ok) throw badState();
  if (spent.value.evicted > 0) {
    // Only callbacks the provider answered spend states: this many means sign-ins completed in bulk.
    c.get("log").warn("spent sign-in states past the tenant's bound: the earliest-expiring forgotten", {
      evicted: spent.value.evicted,
    });
  }
}

/**
 * The callback's answer (a token pair, a two-factor challenge, or a link made): JSON, or with an app redirect a
 * `302` carrying it in the fragment, which never reaches a server nor a `Referer`.
 */
function handBack(
  c: Context<AppEnv>,
  appRedirect: string | null,
  answer: z.infer<typeof TokenPairSchema> | z.infer<typeof TwoFactorChallengeSchema> | z.infer<typeof SsoLinkedSchema>,
) {
  if (!appRedirect) return c.json(answer, 200);
  const fragment = new URLSearchParams(Object.entries(answer).map(([k, v]): [string, string] => [k, String(v)]));
  c.header("Location", `${appRedirect}#${fragment}`);
  return c.body(null, 302);
}
