import { principalOf, tenantOf } from "../../../kernel/auth/guards";
import { originOf } from "../../../kernel/events/origin";
import { jsonBody } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { accountProofBody, passwordChanged, proveAccount } from "../account-proof";
import { directory } from "../directory/contract";
import { identityError } from "../refusals";
import { recipientOf, settleRemoval } from "../user-removal";

const op = operations(["users"]);

const DeleteMeSchema = accountProofBody({});

const removeMe = op.delete("/me", {
  operationId: "deleteMe",
  summary: "Delete your own account (your password, and with two-factor on a code)",
  access: "user",
  request: { body: jsonBody(DeleteMeSchema) },
  responses: {
    204: {
      description:
        "deleted: every session of yours signed out, the API keys you created revoked, the invitations and mail dead letters that hold your email gone",
    },
    403: problem(
      "the password is wrong (wrong_password); two-factor is on and the code is missing, wrong or used (wrong_two_factor_code); or the caller is not a user",
    ),
    409: problem("you are the tenant's last owner (last_owner)"),
    429: problem("too many passwords (policy login) or codes (policy two_factor) tried"),
  },
});

/**
 * `DELETE /api/v1/me`: a user deletes their own account, as an app must let its users do. The
 * `member` role every registered user gets does not hold the permission to delete users, so
 * `DELETE /users/{id}` is an administrator's. The password is asked again (an access token
 * alone, stolen or left in an unlocked app, must not erase an account), against the account's
 * login budget; with two-factor on, a code too, as turning two-factor off needs one. The
 * deletion is then the same as an administrator's.
 */
export const accountRoutes = createRouter().openapi(removeMe, async (c) => {
  const user = principalOf(c, "user");
  const tenant = tenantOf(c);
  const dir = directory(c.env, tenant.id);
  const { proof, verifiedHash } = await proveAccount(c, dir, user.id, c.req.valid("json"));
  const recipient = await recipientOf(c, user.id);
  const result = await dir.deleteOwnAccount({ ctx: originOf(c), userId: user.id, proof, recipient, verifiedHash });
  if (!result.ok && result.error === "password_changed") throw passwordChanged();
  if (!result.ok && result.error === "wrong_proof") {
    throw identityError("wrong_two_factor_code", "the code is wrong or was already used");
  }
  await settleRemoval(c, user.id, result, recipient);
  return c.body(null, 204);
});
