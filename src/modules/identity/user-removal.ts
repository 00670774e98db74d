import type { Context } from "hono";
import { tenantOf } from "../../kernel/auth/guards";
import type { RpcReply } from "../../kernel/durable/rpc";
import type { AppEnv } from "../../kernel/env";
import { AppError } from "../../kernel/errors";
import { dismissMailTo } from "../../kernel/notify/recipient-dismissal";
import { evictUser, forgetRevokedKeys } from "./authenticators";
import { type DirectoryRpc, directory } from "./directory/contract";
import { identityError, refused } from "./refusals";
import { ctxOf } from "./services";

/**
 * A deletion's answer from the directory, as its contract types it: the keys revoked with the
 * user, a refusal, or a failure (`deleteOwnAccount`'s, a superset of `deleteUser`'s).
 */
type Removal = RpcReply<typeof DirectoryRpc, "deleteOwnAccount">;

/**
 * After the directory deleted user `id` (the policy asked in the same call: `403`, or
 * `409 last_owner`; `409 revokes_own_key` when the calling key would go with the user's keys): this isolate forgets the user and the API keys revoked with them at
 * once, those keys leave the D1 key index, and the tenant's mail dead letters to the user's
 * address are dismissed (docs/identity.md, "What deleting an account removes").
 */
export async function settleRemoval(c: Context<AppEnv>, id: string, result: Removal): Promise<void> {
  if (!result.ok) {
    if (result.error === "denied") throw refused(c, result.refusal, id);
    if (result.error === "revokes_caller") {
      throw identityError(
        "revokes_own_key",
        "the calling key was created (directly or through keys it created) by this user, and would be revoked with their keys: delete the user with a credential that did not come from them (an owner's session, or another key)",
      );
    }
    throw new AppError("not_found", { detail: "no such user" });
  }
  evictUser(tenantOf(c).id, id);
  await forgetRevokedKeys(c.env.DB, result.value.revokedKeys);
  await dismissMailTo(c, tenantOf(c).id, result.value.email);
}

/**
 * Deletes user `id` of the request's tenant as the caller (an administrator's
 * `DELETE /users/{id}`): sessions and the keys they created go with them.
 *
 * @example
 * await removeUser(c, c.req.valid("param").id);
 */
export async function removeUser(c: Context<AppEnv>, id: string): Promise<void> {
  await settleRemoval(c, id, await directory(c.env, tenantOf(c).id).deleteUser({ ctx: ctxOf(c), id }));
}
