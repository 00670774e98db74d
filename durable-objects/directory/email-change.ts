import { rpcArgs } from "../../src/kernel/durable/rpc";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { EmailChanges } from "../../src/modules/identity/directory/email-change";
import { fail, ok } from "../../src/modules/identity/directory/types";
import type { In, Out } from "./base";
import { DirectorySealed } from "./sealed";

/**
 * A user's change of email address (docs/identity.md, "Changing your email address"): the request,
 * with the two-factor proof checked and spent in the same call, and the confirmation by the token
 * mailed to the new address, which makes the change in one transaction.
 */
export class DirectoryEmailChange extends DirectorySealed {
  private readonly emailChanges = new EmailChanges(this.store, this.creds, this.twoFactor);

  requestEmailChange(input: In<"requestEmailChange">): Out<"requestEmailChange"> {
    const { ctx, userId, newEmail, tokenHash, expiresAt, keepFamily, proof, verifiedHash } = rpcArgs(
      DirectoryRpc,
      "requestEmailChange",
      input,
    );
    if (!this.store.user(userId)) return fail("not_found");
    // The password was verified off this thread: a reset or change committed meanwhile (an
    // administrator's reset voids it) must not let its old holder send the account elsewhere.
    if (this.store.passwordHashOf(userId) !== verifiedHash) return fail("password_changed");
    if (this.twoFactor.enabled(userId)) {
      if (!proof) return fail("wrong_proof");
      const checked = this.committed(this.store.tx(() => this.twoFactor.verify(ctx, userId, proof, "email_change")));
      if (!checked.ok) return fail("wrong_proof");
    }
    const asked = this.emailChanges.request(ctx, { userId, newEmail, tokenHash, expiresAt, keepFamily });
    return this.committed(asked ? ok(asked) : fail("not_found"));
  }

  confirmEmailChange(input: In<"confirmEmailChange">): Out<"confirmEmailChange"> {
    const { ctx, tokenHash } = rpcArgs(DirectoryRpc, "confirmEmailChange", input);
    return this.committed(this.emailChanges.confirm(ctx, tokenHash));
  }
}
