import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { tenantOf } from "../../../kernel/auth/guards";
import { isoIn, isoNow } from "../../../kernel/clock";
import { newId, sha256Hex } from "../../../kernel/crypto";
import type { AppEnv } from "../../../kernel/env";
import { AppError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { jsonBody, jsonResponse } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { enforce, refund } from "../../../kernel/ratelimit/limiter";
import { evictUser } from "../authenticators";
import { directory } from "../directory/contract";
import { clampUserAgent } from "../directory/sessions";
import { accountSuspended, enrolmentRequired } from "../refusals";
import { TokenPairSchema, TokenSchema } from "../schemas";
import { newSecret } from "../services";
import { domainNotAllowed, providerReplaced, signInRefusal } from "../sso/refusals";
import { tokenPair } from "../token-pair";
import { adminPermissions, CHALLENGE_TTL_S, ProofSchema, proofFor } from "../two-factor";

const op = operations(["auth"]);

/** Login's answer when a second factor is needed: a single-use challenge for `POST /auth/two-factor`. */
export const TwoFactorChallengeSchema = z
  .object({
    two_factor_required: z.literal(true),
    challenge: z.string().openapi({ description: "opaque, single use; send it with a code to /auth/two-factor" }),
    expires_in: z.number().int().openapi({ example: CHALLENGE_TTL_S }),
  })
  .openapi("TwoFactorChallenge");

/**
 * Login's second step, after a correct password: null when the user has no
 * two-factor (tokens as before); the challenge to answer when they have; a
 * 403 `two_factor_required` when the tenant requires it of their roles and
 * they have not enrolled.
 */
export async function secondFactor(
  c: Context<AppEnv>,
  dir: ReturnType<typeof directory>,
  userId: string,
  verified: { hash: string; rehash: string | null; refused: () => Error },
): Promise<z.infer<typeof TwoFactorChallengeSchema> | null> {
  const challenge = await newSecret("plc");
  const verdict = await dir.loginSecondFactor({
    ctx: originOf(c, { kind: "user", id: userId }),
    userId,
    challengeHash: challenge.hash,
    expiresAt: isoIn(c.get("clock"), CHALLENGE_TTL_S * 1000),
    adminPermissions: adminPermissions(c),
    rehash: verified.rehash,
    verifiedHash: verified.hash,
  });
  if (verdict === "none") return null;
  // The password was voided or changed while it was verified: refused as the wrong one it now is.
  if (verdict === "password_changed") throw verified.refused();
  if (verdict === "enrolment_required") throw enrolmentRequired();
  return { two_factor_required: true, challenge: challenge.token, expires_in: CHALLENGE_TTL_S };
}

const complete = op.post("/auth/two-factor", {
  operationId: "completeTwoFactorLogin",
  summary: "Complete a login with the challenge and a TOTP code or a recovery code",
  access: "tenant",
  request: {
    headers: z.object({ "x-tenant": z.string().optional() }),
    body: jsonBody(z.object({ challenge: TokenSchema }).and(ProofSchema)),
  },
  responses: {
    200: jsonResponse("an access and a refresh token", TokenPairSchema),
    400: problem(
      "the challenge of a single sign-on whose provider the tenant has replaced or deleted since (sso_state_invalid, as its callback now gets)",
    ),
    401: problem("unknown, used or expired challenge, or a wrong, reused or used code"),
    403: problem(
      "the account was suspended since the challenge was issued (account_suspended); an explicit link this challenge completes found the identity, or the account, linked elsewhere since its callback (sso_identity_conflict); a single sign-on's challenge whose email domain the provider's allowed_domains no longer lists (sso_domain_not_allowed, as its callback now gets)",
    ),
    429: problem("too many codes tried (policy two_factor, per user)"),
  },
});

const badChallenge = () => new AppError("unauthenticated", { detail: "the challenge is not valid; log in again" });

/** `POST /api/v1/auth/two-factor`: the second step of a login for users with two-factor on. */
export const twoFactorLoginRoutes = createRouter().openapi(complete, async (c) => {
  const tenant = tenantOf(c);
  const { challenge, ...presented } = c.req.valid("json");
  const dir = directory(c.env, tenant.id);
  const challengeHash = await sha256Hex(challenge);
  const live = await dir.twoFactorChallenge({ challengeHash, now: isoNow(c.get("clock")) });
  if (!live) throw badChallenge();
  // Per user, whatever challenge carries the attempt: a new login does not buy new tries.
  const tried = await enforce(c, "two_factor", live.userId);
  const proof = await proofFor(c, live.userId, live.sealedSecret, presented);
  const next = await newSecret("plr");
  const familyId = newId();
  const done = await dir.twoFactorComplete({
    ctx: originOf(c, { kind: "user", id: live.userId }),
    challengeHash,
    userId: live.userId,
    proof,
    familyId,
    tokenHash: next.hash,
    userAgent: clampUserAgent(c.req.header("user-agent")),
  });
  if (!done.ok && done.error === "wrong_proof") {
    throw new AppError("unauthenticated", { detail: "the code is wrong or was already used" });
  }
  // The explicit link this challenge carried found the identity or the account linked elsewhere meanwhile.
  if (!done.ok && done.error === "identity_conflict") throw signInRefusal({ ok: false, error: "identity_conflict" });
  // Begun at a provider the tenant no longer uses: the old issuer's identity signs in (or links) no more.
  if (!done.ok && done.error === "provider_replaced") throw providerReplaced();
  // The provider's allowed_domains no longer lists the domain of the email it asserted: as the callback would refuse it.
  if (!done.ok && done.error === "domain_not_allowed") throw domainNotAllowed();
  if (!done.ok && done.error === "suspended") throw accountSuspended();
  if (!done.ok) throw badChallenge();
  // A code the directory accepted (not replayed) gives its try back, as a right password does:
  // the limit counts wrong codes, so signing in often never locks a user out, and a guesser,
  // who sends no right code, gets no more than before.
  await refund(c, tried);
  evictUser(tenant.id, live.userId);
  c.header("Cache-Control", "no-store");
  return c.json(await tokenPair(c, tenant.id, done.value, familyId, next.token), 200);
});
