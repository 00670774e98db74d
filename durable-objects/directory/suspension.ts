import { rpcArgs } from "../../src/kernel/durable/rpc";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { Suspensions } from "../../src/modules/identity/directory/suspension";
import { denied, fail } from "../../src/modules/identity/directory/types";
import type { In, Out } from "./base";
import { DirectoryTenant } from "./tenant";

/**
 * Member suspension (docs/identity.md#suspending-a-member): an administrator blocks an account and
 * later lets it back in, each asked of the authority policy with the directory's current state in
 * the same call as the write (only an owner suspends an owner; never oneself; never the last owner
 * who can sign in).
 */
export class DirectorySuspension extends DirectoryTenant {
  private readonly suspensions = new Suspensions(this.store, this.creds);

  suspendUser(input: In<"suspendUser">): Out<"suspendUser"> {
    const { ctx, id, reason } = rpcArgs(DirectoryRpc, "suspendUser", input);
    const user = this.authority.user(id);
    if (!user) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "user.suspend", user, owners: this.authority.owners() });
    if (refusal) return denied(refusal);
    // The keys the user created hold nothing while they are suspended: a calling key among them
    // would lock itself out behind a 200, as it would deleting them (revokes_own_key).
    const key = ctx.actor.kind === "api_key" ? ctx.actor.id : null;
    if (key !== null && this.creds.revokedWithUser(key, id)) return fail("revokes_caller");
    return this.committed(this.suspensions.suspend(ctx, id, reason));
  }

  reactivateUser(input: In<"reactivateUser">): Out<"reactivateUser"> {
    const { ctx, id } = rpcArgs(DirectoryRpc, "reactivateUser", input);
    const user = this.authority.user(id);
    if (!user) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "user.reactivate", user });
    if (refusal) return denied(refusal);
    return this.committed(this.suspensions.reactivate(ctx, id));
  }
}
