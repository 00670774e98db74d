import { rpcArgs } from "../../src/kernel/durable/rpc";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { fail, ok, provenUser } from "../../src/modules/identity/directory/types";
import { DirectoryAccounts } from "./accounts";
import type { In, Out } from "./base";

/**
 * The tokens the directory mails an account's address on request (verification, password reset),
 * and spending them. A request costs the same whether or not the address has an account (no
 * enumeration); a suspended account gets a notice instead of a token, and a token it was mailed
 * before is refused unspent until it is reactivated (docs/identity.md#suspending-a-member).
 */
export class DirectoryMailedTokens extends DirectoryAccounts {
  verifyEmail(input: In<"verifyEmail">): Out<"verifyEmail"> {
    const { ctx, tokenHash } = rpcArgs(DirectoryRpc, "verifyEmail", input);
    // Refused unspent while suspended, as a reset token is (below).
    const holder = this.creds.oneTimeUser("verify_email", tokenHash, ctx.now);
    if (holder !== null && this.store.suspended(holder)) return fail("suspended");
    return this.committed(
      this.store.tx(() => {
        const spent = this.creds.spendOneTime(ctx, "verify_email", tokenHash);
        if (!spent.ok) return spent;
        this.store.markEmailVerified(provenUser(ctx, spent.value), spent.value);
        return ok(null);
      }),
    );
  }

  /**
   * A new verification token for an account whose email is not verified yet, voiding the
   * user's earlier ones (only the newest works); returns whom to mail, or null. Any other
   * email (unknown, or verified) costs the same: the same transaction, an event
   * (`user_id: null`), the same commit, so the answer tells nothing of the account.
   */
  resendVerification(input: In<"resendVerification">): Out<"resendVerification"> {
    const { ctx, email, tokenHash, expiresAt } = rpcArgs(DirectoryRpc, "resendVerification", input);
    const found = this.store.credentials(email);
    const userId = found && !found.emailVerified ? found.userId : null;
    // A suspended account is told so instead (no token: it would verify an address nobody may sign in with).
    const suspended = found?.suspended === true;
    this.store.tx(() => {
      if (userId !== null && !suspended) {
        this.creds.voidOneTime(ctx, "verify_email", userId);
        this.creds.issueOneTime("verify_email", userId, tokenHash, expiresAt);
      }
      this.store.emit(ctx, userId ? `user/${userId}` : "verifications", {
        type: "identity.user.verification_requested",
        data: { user_id: userId },
      });
    });
    return this.committed(userId ? { email, suspended } : null);
  }

  /**
   * Stores a reset token when the email has a user, voiding the user's other
   * reset tokens; returns whom to mail, or null. An unknown email costs the
   * same: the same transaction, an event (`user_id: null`), the same commit.
   */
  requestPasswordReset(input: In<"requestPasswordReset">): Out<"requestPasswordReset"> {
    const { ctx, email, tokenHash, expiresAt } = rpcArgs(DirectoryRpc, "requestPasswordReset", input);
    const found = this.store.credentials(email);
    const userId = found?.userId ?? null;
    // A suspended account's token would be refused (confirmPasswordReset): none is stored, the mail
    // says why instead. Its earlier tokens stay as they were (refused until a reactivation).
    const suspended = found?.suspended === true;
    this.store.tx(() => {
      if (userId !== null && !suspended) {
        this.creds.voidOneTime(ctx, "password_reset", userId);
        this.creds.issueOneTime("password_reset", userId, tokenHash, expiresAt);
      }
      this.store.emit(ctx, userId ? `user/${userId}` : "password_resets", {
        type: "identity.password.reset_requested",
        data: { user_id: userId },
      });
    });
    return this.committed(userId ? { email, suspended } : null);
  }

  /**
   * Spends a reset token: sets the password, voids the user's other reset tokens and the two-factor
   * challenges the old password bought, ends every session, and marks the email verified: the token reached its owner through that mailbox,
   * which is all a verification token proves (a user whose verification mail expired is not
   * left locked out by a tenant that requires it).
   */
  confirmPasswordReset(input: In<"confirmPasswordReset">): Out<"confirmPasswordReset"> {
    const { ctx, tokenHash, passwordHash } = rpcArgs(DirectoryRpc, "confirmPasswordReset", input);
    // A suspended account's token is refused unspent: the mailbox that holds it proved the account,
    // and once reactivated within the hour the same link works.
    const holder = this.creds.oneTimeUser("password_reset", tokenHash, ctx.now);
    if (holder !== null && this.store.suspended(holder)) return fail("suspended");
    return this.committed(
      this.store.tx(() => {
        const spent = this.creds.spendOneTime(ctx, "password_reset", tokenHash);
        if (!spent.ok) return spent;
        this.store.setPasswordHash(spent.value, passwordHash, ctx.now);
        // The token's holder is the user: the entries it proves name them, the sessions it ends too.
        const byUser = provenUser(ctx, spent.value);
        this.store.markEmailVerified(byUser, spent.value);
        this.creds.voidOneTime(ctx, "password_reset", spent.value);
        // A change of address asked by whoever held the account before the reset dies with it.
        this.creds.voidOneTime(ctx, "email_change", spent.value);
        this.creds.revokeAllFamilies(byUser, spent.value, "password_reset");
        this.twoFactor.voidChallenges(ctx, spent.value);
        this.store.emit(byUser, `user/${spent.value}`, {
          type: "identity.password.reset",
          data: { user_id: spent.value },
        });
        return ok(spent.value);
      }),
    );
  }
}
