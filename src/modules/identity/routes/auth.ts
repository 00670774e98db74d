import { z } from "@hono/zod-openapi";
import { tenantOf } from "../../../kernel/auth/guards";
import { isoIn } from "../../../kernel/clock";
import { newId, sha256Hex } from "../../../kernel/crypto";
import { AppError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { notifierOf } from "../../../kernel/notify/notifier";
import { DisplayName, jsonBody, jsonResponse, LOCATION_HEADER } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { enforce, refund, restore } from "../../../kernel/ratelimit/limiter";
import { clientIp } from "../../../kernel/ratelimit/middleware";
import { noticeAccountChange } from "../account-notice";
import { evictUser } from "../authenticators";
import { directory } from "../directory/contract";
import { clampUserAgent } from "../directory/sessions";
import { linkFor } from "../mail-links";
import { passwordResetMail, RESET_TTL_MINUTES, VERIFY_TTL_HOURS, verificationMail } from "../mail-templates";
import { accountSuspended, identityError } from "../refusals";
import {
  EmailSchema,
  NewPasswordSchema,
  PresentedPasswordSchema,
  TokenPairSchema,
  TokenSchema,
  UserSchema,
} from "../schemas";
import { hasher, newSecret } from "../services";
import { openSuccessor, sealSuccessor } from "../successor";
import { tokenPair } from "../token-pair";
import { confirmEmailChange, EMAIL_CHANGE_TOKEN_PREFIX } from "./email";
import { mailedOnRequest } from "./mailed-on-request";
import { secondFactor, TwoFactorChallengeSchema } from "./two-factor-login";

const op = operations(["auth"]);

const VERIFY_TTL_MS = VERIFY_TTL_HOURS * 3600 * 1000;
const RESET_TTL_MS = RESET_TTL_MINUTES * 60 * 1000;

const tenantHeader = z.object({ "x-tenant": z.string().optional() });

const register = op.post("/auth/register", {
  operationId: "register",
  summary: "Register a user in the tenant",
  access: "tenant",
  request: {
    headers: tenantHeader,
    body: jsonBody(z.object({ email: EmailSchema, password: NewPasswordSchema, name: DisplayName })),
  },
  responses: {
    201: jsonResponse("the new user; a verification mail is on its way", UserSchema, LOCATION_HEADER),
    400: problem("invalid fields, or no tenant named"),
    403: problem("the tenant's signup policy does not let this email register (signup_closed)"),
    409: problem("the email is taken in this tenant"),
  },
});

const login = op.post("/auth/login", {
  operationId: "login",
  summary: "Exchange email and password for tokens",
  access: "tenant",
  request: {
    headers: tenantHeader,
    body: jsonBody(z.object({ email: EmailSchema, password: PresentedPasswordSchema })),
  },
  responses: {
    200: jsonResponse(
      "an access and a refresh token; for a user with two-factor on, a challenge for POST /auth/two-factor instead",
      z.union([TokenPairSchema, TwoFactorChallengeSchema]),
    ),
    401: problem("unknown email or wrong password (the same answer for both)"),
    403: problem("the tenant requires a verified email, or two-factor of administrators (two_factor_required)"),
  },
});

const refresh = op.post("/auth/refresh", {
  operationId: "refreshTokens",
  summary: "Spend a refresh token for a new pair",
  access: "tenant",
  request: { headers: tenantHeader, body: jsonBody(z.object({ refresh_token: TokenSchema })) },
  responses: {
    200: jsonResponse(
      "a new pair; the presented refresh token is spent. Presented again within 10 s, the same refresh token is answered again with a new access token",
      TokenPairSchema,
    ),
    401: problem("unknown, expired or spent refresh token (one spent more than 10 s ago revokes its family)"),
  },
});

const logout = op.post("/auth/logout", {
  operationId: "logout",
  summary: "Revoke the refresh token's family",
  access: "tenant",
  request: { headers: tenantHeader, body: jsonBody(z.object({ refresh_token: TokenSchema })) },
  responses: { 204: { description: "revoked (also for an unknown token)" } },
});

const verifyEmail = op.post("/auth/verify-email", {
  operationId: "verifyEmail",
  summary: "Confirm an email address with the mailed token",
  access: "tenant",
  request: { headers: tenantHeader, body: jsonBody(z.object({ token: TokenSchema })) },
  responses: {
    204: { description: "verified; with an email change's token (ple_), the account's address is the new one" },
    400: problem("bad, used or expired token"),
    403: problem("the token's account is suspended (account_suspended); the token stays unspent"),
    409: problem("an email change's address was registered since the change was asked"),
  },
});

const verifyResend = op.post("/auth/verify-email/resend", {
  operationId: "resendVerification",
  summary: "Mail a new email verification token",
  access: "tenant",
  request: { headers: tenantHeader, body: jsonBody(z.object({ email: EmailSchema })) },
  responses: {
    202: { description: "accepted, whether or not the email has an account waiting for verification" },
  },
});

const resetRequest = op.post("/auth/password-reset", {
  operationId: "requestPasswordReset",
  summary: "Mail a password reset token",
  access: "tenant",
  request: { headers: tenantHeader, body: jsonBody(z.object({ email: EmailSchema })) },
  responses: { 202: { description: "accepted, whether or not the email has an account" } },
});

const resetConfirm = op.post("/auth/password-reset/confirm", {
  operationId: "confirmPasswordReset",
  summary: "Set a new password with a reset token",
  access: "tenant",
  request: { headers: tenantHeader, body: jsonBody(z.object({ token: TokenSchema, password: NewPasswordSchema })) },
  responses: {
    204: { description: "password changed, the email verified (the token came through it); every session revoked" },
    400: problem("bad, used or expired token"),
    403: problem("the token's account is suspended (account_suspended); the token stays unspent"),
  },
});

const badLogin = () => new AppError("unauthenticated", { detail: "invalid email or password" });
const badRefresh = () => new AppError("unauthenticated", { detail: "the refresh token is not valid" });

/** `/api/v1/auth/*`: registration, login, refresh rotation, logout, email verification, password reset. */
export const authRoutes = createRouter()
  .openapi(register, async (c) => {
    const tenant = tenantOf(c);
    const { email, password, name } = c.req.valid("json");
    await enforce(c, "register", clientIp(c));
    const passwordHash = await hasher.hash(password);
    const verification = await newSecret("plv");
    const result = await directory(c.env, tenant.id).register({
      ctx: originOf(c),
      user: { id: newId(), email, name, passwordHash },
      verification: { hash: verification.hash, expiresAt: isoIn(c.get("clock"), VERIFY_TTL_MS) },
    });
    if (!result.ok && result.error === "signup_closed") {
      throw identityError(
        "signup_closed",
        "this tenant does not take registrations from this address; ask an administrator for an invitation",
      );
    }
    if (!result.ok) throw new AppError("conflict", { detail: "this email is already registered in this tenant" });
    // Queued, not sent: the consumer sends it (and retries it) after the response.
    const links = (await directory(c.env, tenant.id).settings()).mail_links;
    await notifierOf(c).send({
      tenantId: tenant.id,
      to: email,
      kind: "identity.verify-email",
      ...verificationMail({
        tenantName: tenant.name,
        token: verification.token,
        link: linkFor(links.verify_email, verification.token),
      }),
    });
    c.header("Location", `/api/v1/users/${result.value.id}`);
    return c.json(result.value, 201);
  })
  .openapi(login, async (c) => {
    const tenant = tenantOf(c);
    const { email, password } = c.req.valid("json");
    // Before any hashing, and alike for every email, so a 429 says nothing of the account. The address's
    // budget counts every attempt (each costs an Argon2 run); the account's counts wrong passwords only:
    // spent here, so concurrent guesses are stopped before hashing, and given back below when it was right.
    await enforce(c, "login_ip", clientIp(c));
    const guess = await enforce(c, "login", email);
    const dir = directory(c.env, tenant.id);
    const found = await dir.loginLookup(email);
    if (!found) {
      // Same work as a real verify, so timing does not reveal which emails exist.
      await hasher.verifyDummy(password);
      await dir.loginFailed({ ctx: originOf(c), reason: "unknown_email" });
      throw badLogin();
    }
    const verdict = await hasher.verify(found.passwordHash, password);
    const actor = { kind: "user" as const, id: found.userId };
    if (!verdict.ok) {
      await dir.loginFailed({ ctx: originOf(c, actor), reason: "bad_password" });
      throw badLogin();
    }
    await refund(c, guess);
    // Only after the right password, as email_not_verified: the answer tells no more than that one.
    if (found.suspended) {
      await dir.loginFailed({ ctx: originOf(c, actor), reason: "suspended" });
      throw accountSuspended();
    }
    if (!found.mayLogin) {
      await dir.loginFailed({ ctx: originOf(c, actor), reason: "email_not_verified" });
      throw identityError("email_not_verified", "verify your email address before logging in");
    }
    const rehash = verdict.needsRehash ? await hasher.hash(password) : null;
    const challenge = await secondFactor(c, dir, found.userId, {
      hash: found.passwordHash,
      rehash,
      refused: badLogin,
    });
    if (challenge) {
      c.header("Cache-Control", "no-store");
      return c.json(challenge, 200);
    }
    const next = await newSecret("plr");
    const familyId = newId();
    const started = await dir.loginSucceeded({
      ctx: originOf(c, actor),
      userId: found.userId,
      familyId,
      tokenHash: next.hash,
      rehash,
      verifiedHash: found.passwordHash,
      userAgent: clampUserAgent(c.req.header("user-agent")),
    });
    if (!started.ok) throw badLogin();
    evictUser(tenant.id, found.userId);
    c.header("Cache-Control", "no-store");
    return c.json(
      await tokenPair(c, tenant.id, { id: found.userId, roles: started.value.roles }, familyId, next.token),
      200,
    );
  })
  .openapi(refresh, async (c) => {
    const tenant = tenantOf(c);
    const { refresh_token } = c.req.valid("json");
    const next = await newSecret("plr");
    const presentedHash = await sha256Hex(refresh_token);
    const result = await directory(c.env, tenant.id).refresh({
      ctx: originOf(c),
      presentedHash,
      nextHash: next.hash,
      nextSealed: await sealSuccessor(refresh_token, presentedHash, next.token),
      userAgent: clampUserAgent(c.req.header("user-agent")),
    });
    if (!result.ok) {
      // A spent token presented again past the grace revoked its family: its access tokens stop here at once.
      if (result.error === "reused") evictUser(tenant.id, result.userId);
      throw badRefresh();
    }
    const { principal, familyId, resent } = result.value;
    // Within the grace the token was spent a moment ago (another tab, a lost response): same successor.
    const successor = resent === null ? next.token : await openSuccessor(refresh_token, presentedHash, resent);
    if (successor === null) throw badRefresh();
    c.header("Cache-Control", "no-store");
    return c.json(await tokenPair(c, tenant.id, principal, familyId, successor), 200);
  })
  .openapi(logout, async (c) => {
    const tenant = tenantOf(c);
    const { refresh_token } = c.req.valid("json");
    const { userId } = await directory(c.env, tenant.id).logout({
      ctx: originOf(c),
      presentedHash: await sha256Hex(refresh_token),
    });
    if (userId) evictUser(tenant.id, userId);
    return c.body(null, 204);
  })
  .openapi(verifyEmail, async (c) => {
    const tenant = tenantOf(c);
    const { token } = c.req.valid("json");
    // An email change's token verifies its new address too, so mail_links.verify_email serves both mails.
    if (token.startsWith(`${EMAIL_CHANGE_TOKEN_PREFIX}_`)) {
      await confirmEmailChange(c, await sha256Hex(token));
      return c.body(null, 204);
    }
    const result = await directory(c.env, tenant.id).verifyEmail({
      ctx: originOf(c),
      tokenHash: await sha256Hex(token),
    });
    if (!result.ok && result.error === "suspended") throw accountSuspended();
    if (!result.ok) throw new AppError("invalid_token", { detail: "the token is unknown, used or expired" });
    return c.body(null, 204);
  })
  .openapi(verifyResend, async (c) => {
    const { email } = c.req.valid("json");
    return mailedOnRequest(
      c,
      email,
      {
        prefix: "plv",
        ttlMs: VERIFY_TTL_MS,
        kind: "identity.verify-email",
        link: "verify_email",
        mail: verificationMail,
        asked: "verification",
      },
      (token) => directory(c.env, tenantOf(c).id).resendVerification({ ctx: originOf(c), email, ...token }),
    );
  })
  .openapi(resetRequest, async (c) => {
    const { email } = c.req.valid("json");
    return mailedOnRequest(
      c,
      email,
      {
        prefix: "plp",
        ttlMs: RESET_TTL_MS,
        kind: "identity.password-reset",
        link: "password_reset",
        mail: passwordResetMail,
        asked: "password_reset",
      },
      (token) => directory(c.env, tenantOf(c).id).requestPasswordReset({ ctx: originOf(c), email, ...token }),
    );
  })
  .openapi(resetConfirm, async (c) => {
    const tenant = tenantOf(c);
    const { token, password } = c.req.valid("json");
    // The new password is hashed before the directory looks at the token: without a limit
    // per address, made-up tokens would buy Argon2 runs (~45 ms, 19 MiB each) at the
    // anonymous rate. A login's budget per address, as accepting an invitation has.
    await enforce(c, "login_ip", clientIp(c));
    const result = await directory(c.env, tenant.id).confirmPasswordReset({
      ctx: originOf(c),
      tokenHash: await sha256Hex(token),
      passwordHash: await hasher.hash(password),
    });
    if (!result.ok && result.error === "suspended") throw accountSuspended();
    if (!result.ok) throw new AppError("invalid_token", { detail: "the token is unknown, used or expired" });
    evictUser(tenant.id, result.value.userId);
    noticeAccountChange(c, result.value.userId, "password_reset");
    // Mailbox proved, password new: the old one's guesses must not keep its owner out (docs/identity.md).
    await restore(c, "login", result.value.email);
    return c.body(null, 204);
  });
