import { rpcArgs } from "../../src/kernel/durable/rpc";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { PersonalRecords } from "../../src/modules/identity/directory/personal-data";
import { denied, fail, ok } from "../../src/modules/identity/directory/types";
import type { In, Out } from "./base";
import { DirectoryPasswordReset } from "./password-reset";

/**
 * A user's export (docs/identity.md#what-an-export-holds): what the directory holds about them,
 * read in one call so the parts agree with each other. Reads only; the Worker asked the person.
 */
export class DirectoryPersonalData extends DirectoryPasswordReset {
  private readonly personal = new PersonalRecords(this.store, this.invitations, this.twoFactor);

  personalData(input: In<"personalData">): Out<"personalData"> {
    const { userId, now } = rpcArgs(DirectoryRpc, "personalData", input);
    return this.personal.of(userId, now);
  }

  /**
   * An administrator's export of user `id` (docs/identity.md#an-administrators-copy-of-a-members-data):
   * the policy asked with the directory's current roles, and the export recorded before any module
   * reads, in one call, so a refusal records nothing but its `authz.denied` and an export is never
   * taken unrecorded. A suspended user's data is exported as an active one's.
   */
  admitUserExport(input: In<"admitUserExport">): Out<"admitUserExport"> {
    const { ctx, id } = rpcArgs(DirectoryRpc, "admitUserExport", input);
    const user = this.authority.user(id);
    if (!user) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "user.export", user });
    if (refusal) return denied(refusal);
    this.personal.recordExport(ctx, id);
    return this.committed(ok(null));
  }

  /**
   * A user's own export: recorded as an administrator's is (an export is a disclosure, whoever
   * takes it), the user as actor and target. Only a user's: a key is never the subject of one.
   */
  recordOwnExport(input: In<"recordOwnExport">): Out<"recordOwnExport"> {
    const { ctx } = rpcArgs(DirectoryRpc, "recordOwnExport", input);
    const id = ctx.actor.kind === "user" ? ctx.actor.id : null;
    if (!id || !this.authority.user(id)) return fail("not_found");
    this.personal.recordExport(ctx, id);
    return this.committed(ok(null));
  }
}
