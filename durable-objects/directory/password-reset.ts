import { rpcArgs } from "../../src/kernel/durable/rpc";
import { AdminResets } from "../../src/modules/identity/directory/admin-reset";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { denied, fail, ok } from "../../src/modules/identity/directory/types";
import type { In, Out } from "./base";
import { DirectorySuspension } from "./suspension";

/**
 * An administrator's password reset (docs/identity.md#resetting-a-members-password), asked of the
 * authority policy with the directory's current state in the same call as the write, as a
 * two-factor reset is: never the caller's own account nor through a key the user created, only an
 * owner resets an owner, and the caller holds every permission the user holds.
 */
export class DirectoryPasswordReset extends DirectorySuspension {
  private readonly adminResets = new AdminResets(this.store, this.creds, this.twoFactor);

  resetUserPassword(input: In<"resetUserPassword">): Out<"resetUserPassword"> {
    const { ctx, id, tokenHash, expiresAt, signOut } = rpcArgs(DirectoryRpc, "resetUserPassword", input);
    const user = this.authority.user(id);
    const view = this.store.user(id);
    if (!user || !view) return fail("not_found");
    const key = ctx.actor.kind === "api_key" ? ctx.actor.id : null;
    const creatorsKey = key !== null && this.creds.revokedWithUser(key, id);
    const refusal = this.authority.check(ctx, { type: "user.password_reset", user, creatorsKey });
    if (refusal) return denied(refusal);
    // A suspended account's reset token is refused unspent until a reactivation, as the self-service
    // request stores none for it: asked after the authority, so only a caller who may act on it hears.
    if (view.status === "suspended") return fail("suspended");
    const { sessionsEnded } = this.adminResets.issue(ctx, id, { tokenHash, expiresAt, signOut });
    return this.committed(ok({ email: view.email, sessionsEnded }));
  }
}
