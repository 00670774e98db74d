import { z } from "@hono/zod-openapi";
import { principalOf, tenantOf } from "../../../kernel/auth/guards";
import { jsonBody } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { confirmCurrentPassword } from "../current-password";
import { directory } from "../directory/contract";
import { PresentedPasswordSchema } from "../schemas";
import { removeUser } from "../user-removal";

const op = operations(["users"]);

const removeMe = op.delete("/me", {
  operationId: "deleteMe",
  summary: "Delete your own account (with your password)",
  access: "principal",
  request: { body: jsonBody(z.object({ password: PresentedPasswordSchema })) },
  responses: {
    204: { description: "deleted: every session of yours signed out, the API keys you created revoked" },
    403: problem("the password is wrong (wrong_password), or the caller is not a user"),
    409: problem("you are the tenant's last owner (last_owner)"),
  },
});

/**
 * `DELETE /api/v1/me`: a user deletes their own account, as an app must let its users do. The
 * `member` role every registered user gets does not hold `identity.user.delete`, so
 * `DELETE /users/{id}` is an administrator's. The password is asked again (an access token
 * alone, stolen or left in an unlocked app, must not erase an account), against the account's
 * login budget; the deletion is then the same as an administrator's.
 */
export const accountRoutes = createRouter().openapi(removeMe, async (c) => {
  const user = principalOf(c, "user");
  const { password } = c.req.valid("json");
  await confirmCurrentPassword(c, directory(c.env, tenantOf(c).id), user.id, password);
  await removeUser(c, user.id);
  return c.body(null, 204);
});
