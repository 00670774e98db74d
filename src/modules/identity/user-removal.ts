import type { Context } from "hono";
import { tenantOf } from "../../kernel/auth/guards";
import type { RpcReply } from "../../kernel/durable/rpc";
import type { AppEnv } from "../../kernel/env";
import { originOf } from "../../kernel/events/origin";
import { errorFields } from "../../kernel/log";
import { recipientDigest } from "../../kernel/notify/recipient-digest";
import { dismissMailTo } from "../../kernel/notify/recipient-dismissal";
import { evictUser, forgetRevokedKeys } from "./authenticators";
import { type DirectoryRpc, directory } from "./directory/contract";
import { writeRefused } from "./refusals";

/**
 * A deletion's answer from the directory, as its contract types it: the keys revoked with the
 * user, a refusal, or a failure (`deleteOwnAccount`'s, a superset of `deleteUser`'s).
 */
type Removal = RpcReply<typeof DirectoryRpc, "deleteOwnAccount">;

/**
 * The recipient digest of user `id`'s email (kernel/notify/recipient-digest.ts), for the
 * directory to keep in the deletion's transaction: their mail dead letters are found by it
 * again if the dismissal after the commit fails. Null for an unknown user (the deletion answers
 * 404) or without a digest key. Emails never change, so the one read here is the one deleted.
 *
 * @example
 * const recipient = await recipientOf(c, id);
 */
export async function recipientOf(c: Context<AppEnv>, id: string): Promise<string | null> {
  const tenantId = tenantOf(c).id;
  const user = await directory(c.env, tenantId).getUser(id);
  return user ? recipientDigest(c.get("config").ipHashKey, tenantId, user.email) : null;
}

/**
 * After the directory deleted user `id` (the policy asked in the same call: `403`, or
 * `409 last_owner`; `409 revokes_own_key` when the calling key would go with the user's keys): this isolate forgets the user and the API keys revoked with them at
 * once, those keys leave the D1 key index, and the tenant's mail dead letters to the user's
 * address are dismissed (docs/identity.md, "What deleting an account removes").
 *
 * The account is gone once the directory committed, so nothing after that fails the answer: a
 * key-index row left behind routes to a directory that refuses the key (and goes when the
 * purge forgets the key), and letters left behind are dismissed by the hourly
 * `tenants/purge-tokens` from the `recipient` digest the directory kept. Each failure is logged.
 */
export async function settleRemoval(
  c: Context<AppEnv>,
  id: string,
  result: Removal,
  recipient: string | null,
): Promise<void> {
  if (!result.ok) {
    throw writeRefused(c, id, result, {
      revokesCaller:
        "the calling key was created (directly or through keys it created) by this user, and would be revoked with their keys: delete the user with a credential that did not come from them (an owner's session, or another key)",
      notFound: "no such user",
    });
  }
  const tenantId = tenantOf(c).id;
  const log = c.get("log").child({ user_id: id });
  evictUser(tenantId, id);
  try {
    await forgetRevokedKeys(c.env.DB, result.value.revokedKeys);
  } catch (error) {
    log.error("revoked keys of a deleted user left in the key index", errorFields(error));
  }
  try {
    await dismissMailTo(c, tenantId, result.value.email);
    if (recipient !== null) await directory(c.env, tenantId).mailDismissed({ digests: [recipient] });
  } catch (error) {
    log.error("mail dead letters of a deleted user not dismissed; tenants/purge-tokens retries", errorFields(error));
  }
}

/**
 * Deletes user `id` of the request's tenant as the caller (an administrator's
 * `DELETE /users/{id}`): sessions and the keys they created go with them.
 *
 * @example
 * await removeUser(c, c.req.valid("param").id);
 */
export async function removeUser(c: Context<AppEnv>, id: string): Promise<void> {
  const recipient = await recipientOf(c, id);
  const result = await directory(c.env, tenantOf(c).id).deleteUser({ ctx: originOf(c), id, recipient });
  await settleRemoval(c, id, result, recipient);
}
