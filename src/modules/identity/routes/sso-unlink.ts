import { PERMISSIONS } from "../../../generated/permissions";
import { principalOf, tenantOf } from "../../../kernel/auth/guards";
import { AppError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { IdParam, jsonBody } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { accountProofBody, passwordChanged, proveAccount } from "../account-proof";
import { evictUser } from "../authenticators";
import { directory } from "../directory/contract";
import { identityError, refused } from "../refusals";

const op = operations(["users"]);

const UnlinkSchema = accountProofBody({});

const unlinkMine = op.delete("/me/sso", {
  operationId: "unlinkSso",
  summary: "Unlink your account from the identity provider (your password, and with two-factor on a code)",
  access: "user",
  request: { body: jsonBody(UnlinkSchema) },
  responses: {
    204: {
      description: "unlinked: the provider's identity no longer signs you in, and the sessions it signed in are ended",
    },
    403: problem(
      "the password is wrong (wrong_password); two-factor is on and the code is missing, wrong or used (wrong_two_factor_code); or the caller is not a user",
    ),
    404: problem("no identity is linked to your account (not_found)"),
    429: problem("too many passwords (policy login) or codes (policy two_factor) tried"),
  },
});

const unlinkTheirs = op.delete("/admin/users/{id}/sso", {
  operationId: "unlinkUserSso",
  summary: "Unlink a user's account from the identity provider (identity.user.update)",
  access: PERMISSIONS.identity.user.update,
  request: { params: IdParam },
  responses: {
    204: {
      description:
        "unlinked: the provider's identity no longer signs the user in, and the sessions it signed in are ended",
    },
    403: problem(
      "the user holds a permission the caller does not, or is an owner and the caller is not an owner; or the user is the caller (DELETE /api/v1/me/sso)",
    ),
    404: problem("no such user, or no identity linked to their account (not_found)"),
  },
});

const nothingLinked = () =>
  new AppError("not_found", { detail: "no identity of a provider is linked to this account" });

/**
 * `DELETE /api/v1/me/sso` and `DELETE /api/v1/admin/users/{id}/sso`: unlinking a provider
 * identity from an account, so it no longer signs that account in. The user proves the account
 * is theirs as `DELETE /me` asks (password, and a code with two-factor on): an access token
 * alone must not change how the account signs in. An administrator may unlink a user they may
 * sign out (who-may-change-authority): taking a way in away is no takeover, unlike linking,
 * which stays the user's own. Not their own account through the admin route, which asks no proof.
 * Either ends the sessions the unlinked identity signed in (directory/sso.ts `unlink`).
 */
export const ssoUnlinkRoutes = createRouter()
  .openapi(unlinkMine, async (c) => {
    const user = principalOf(c, "user");
    const tenant = tenantOf(c);
    const dir = directory(c.env, tenant.id);
    const { proof, verifiedHash } = await proveAccount(c, dir, user.id, c.req.valid("json"));
    const result = await dir.ssoUnlinkOwn({ ctx: originOf(c), userId: user.id, proof, verifiedHash });
    if (!result.ok) {
      if (result.error === "password_changed") throw passwordChanged();
      if (result.error === "wrong_proof") {
        throw identityError("wrong_two_factor_code", "the code is wrong or was already used");
      }
      throw nothingLinked();
    }
    // The sessions the identity signed in were revoked: this isolate refuses their access tokens now.
    evictUser(tenant.id, user.id);
    return c.body(null, 204);
  })
  .openapi(unlinkTheirs, async (c) => {
    const tenant = tenantOf(c);
    const { id } = c.req.valid("param");
    const result = await directory(c.env, tenant.id).ssoUnlinkUser({ ctx: originOf(c), userId: id });
    if (!result.ok) throw result.error === "denied" ? refused(c, result.refusal, id) : nothingLinked();
    evictUser(tenant.id, id);
    return c.body(null, 204);
  });
