import { rpcArgs } from "../../src/kernel/durable/rpc";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { denied, fail, ok } from "../../src/modules/identity/directory/types";
import type { In, Out } from "./base";
import { DirectoryMailedTokens } from "./mailed-tokens";

/**
 * The directory's API keys: created and revoked (with every key they created) as the
 * policy allows, listed and read one by one without their secrets, verified and touched
 * on each request they authenticate.
 */
export class DirectoryKeys extends DirectoryMailedTokens {
  /** Creates a key whose scopes (and expiry, for a key made by a key) the caller may give. */
  createKey(input: In<"createKey">): Out<"createKey"> {
    const { ctx, key } = rpcArgs(DirectoryRpc, "createKey", input);
    const refusal = this.authority.check(ctx, { type: "key.create", scopes: key.scopes, expiresAt: key.expiresAt });
    if (refusal) return denied(refusal);
    return this.committed(ok(this.creds.createKey(ctx, key)));
  }

  listKeys(input: In<"listKeys">): Out<"listKeys"> {
    const { now, limit, cursor } = rpcArgs(DirectoryRpc, "listKeys", input);
    return this.creds.listKeys(now, limit, cursor);
  }

  /** One key live at `now`, as the list shows it: null for a revoked, expired or unknown id. */
  getKey(input: In<"getKey">): Out<"getKey"> {
    const { id, now } = rpcArgs(DirectoryRpc, "getKey", input);
    const key = this.creds.liveKey(id, now);
    return key && this.creds.shown(key, now);
  }

  /**
   * Revokes a live key and the keys it created (cascade), if the caller holds the key's scopes,
   * and, in the same transaction, the invitations those keys left pending: acceptance refuses an
   * invitation whose sender no longer exists, so listing it as `pending` would be untrue.
   * An expired key is not_found: it authenticates nothing, and every key it created expired with it.
   */
  revokeKey(input: In<"revokeKey">): Out<"revokeKey"> {
    const { ctx, id } = rpcArgs(DirectoryRpc, "revokeKey", input);
    const key = this.creds.liveKey(id, ctx.now);
    if (!key) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "key.revoke", key });
    if (refusal) return denied(refusal);
    const revoked = this.store.tx(() => {
      const result = this.creds.revokeKey(ctx, id);
      if (result.ok) {
        this.invitations.revokeSentByKeys(
          ctx,
          result.value.map((k) => k.id),
        );
      }
      return result;
    });
    return this.committed(revoked);
  }

  verifyKey(input: In<"verifyKey">): Out<"verifyKey"> {
    const { hash, now } = rpcArgs(DirectoryRpc, "verifyKey", input);
    return this.creds.verifyKey(hash, now);
  }

  touchKey(input: In<"touchKey">): Out<"touchKey"> {
    const { id, now } = rpcArgs(DirectoryRpc, "touchKey", input);
    this.creds.touchKey(id, now);
    this.committed(null);
  }
}
