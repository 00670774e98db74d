import { z } from "@hono/zod-openapi";
import { principalOf, tenantOf } from "../../../kernel/auth/guards";
import { originOf } from "../../../kernel/events/origin";
import { jsonBody } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { noticeAccountChange } from "../account-notice";
import { evictUser } from "../authenticators";
import { confirmCurrentPassword } from "../current-password";
import { directory } from "../directory/contract";
import { identityError } from "../refusals";
import { NewPasswordSchema, PresentedPasswordSchema } from "../schemas";
import { hasher } from "../services";

const op = operations(["auth"]);

const change = op.post("/auth/change-password", {
  operationId: "changePassword",
  summary: "Change your password (signs out your other sessions)",
  access: "user",
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
  const verifiedHash = await confirmCurrentPassword(c, dir, user.id, current_password);
  const changed = await dir.changePassword({
    ctx: originOf(c),
    userId: user.id,
    passwordHash: await hasher.hash(new_password),
    keepFamily: user.sessionId ?? null,
    verifiedHash,
  });
  // Reset or changed while the current one was verified: it is no longer the password, and is
  // answered as a wrong one, which tells its holder nothing of the reset.
  if (!changed.ok) throw identityError("wrong_password", "the current password is wrong");
  evictUser(tenant.id, user.id);
  noticeAccountChange(c, user.id, "password_change");
  return c.body(null, 204);
});
