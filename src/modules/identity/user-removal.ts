import type { Context } from "hono";
import { tenantOf } from "../../kernel/auth/guards";
import type { AppEnv } from "../../kernel/env";
import { AppError } from "../../kernel/errors";
import { evictKey, evictUser } from "./authenticators";
import { directory } from "./directory/contract";
import { keyIndex } from "./key-index";
import { refused } from "./refusals";
import { ctxOf } from "./services";

/**
 * Deletes user `id` of the request's tenant as the caller, whoever asks (an administrator, or
 * the user themself): the directory asks the authority policy in the same call as the write
 * (`403`, or `409 last_owner`), revokes the user's sessions and the API keys they created, and
 * this isolate forgets the user and those keys at once; the keys leave the D1 key index.
 *
 * @example
 * await removeUser(c, c.req.valid("param").id);
 */
export async function removeUser(c: Context<AppEnv>, id: string): Promise<void> {
  const tenant = tenantOf(c);
  const result = await directory(c.env, tenant.id).deleteUser({ ctx: ctxOf(c), id });
  if (!result.ok) {
    throw result.error === "denied"
      ? refused(c, result.refusal, id)
      : new AppError("not_found", { detail: "no such user" });
  }
  evictUser(tenant.id, id);
  for (const key of result.value.revokedKeys) evictKey(key.id);
  await keyIndex(c.env.DB).remove(result.value.revokedKeys.map((k) => k.hash));
}
