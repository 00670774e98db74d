import { z } from "@hono/zod-openapi";
import { principalOf, tenantOf } from "../../../kernel/auth/guards";
import { jsonBody } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { enforce, refund } from "../../../kernel/ratelimit/limiter";
import { evictUser } from "../authenticators";
import { directory } from "../directory/contract";
import { identityError } from "../refusals";
import { NewPasswordSchema, PresentedPasswordSchema } from "../schemas";
import { ctxOf, hasher } from "../services";

const op = operations(["auth"]);

const change = op.post("/auth/change-password", {
  operationId: "changePassword",
  summary: "Change your password (signs out your other sessions)",
  access: "principal",
  request: {
    body: jsonBody(z.object({ current_password: PresentedPasswordSchema, new_password: NewPasswordSchema })),
  },
  responses: {
    204: { description: "changed; every other session of the user is revoked" },
    400: problem("the new password does not meet the policy"),
    403: problem("the current password is wrong, or the caller is not a user"),
  },
});

/** `POST /api/v1/auth/change-password` for a signed-in user. */
export const passwordRoutes = createRouter().openapi(change, async (c) => {
  const user = principalOf(c, "user");
  const tenant = tenantOf(c);
  const { current_password, new_password } = c.req.valid("json");
  const dir = directory(c.env, tenant.id);
  // The current password is a guess like a login's, so it spends the account's login budget (keyed by
  // email, before any hashing): a stolen access token buys no more tries than the login form gives.
  const account = await dir.getUser(user.id);
  const guess = await enforce(c, "login", account?.email ?? user.id);
  const stored = await dir.passwordHashOf(user.id);
  const verdict = stored ? await hasher.verify(stored, current_password) : { ok: false };
  if (!verdict.ok) {
    // Audited as a login's failure is, so guesses through a stolen access token leave a trace.
    await dir.loginFailed({ ctx: ctxOf(c), reason: "bad_password" });
    throw identityError("wrong_password", "the current password is wrong");
  }
  // Only wrong guesses count, as at login.
  await refund(c, guess);
  await dir.changePassword({
    ctx: ctxOf(c),
    userId: user.id,
    passwordHash: await hasher.hash(new_password),
    keepFamily: user.sessionId ?? null,
  });
  evictUser(tenant.id, user.id);
  return c.body(null, 204);
});
