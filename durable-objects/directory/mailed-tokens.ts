import { rpcArgs } from "../../src/kernel/durable/rpc";
import type { Origin } from "../../src/kernel/events/origin";
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
    if (this.heldBySuspended("verify_email", tokenHash, ctx.now)) return fail("suspended");
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
    const to = found && !found.emailVerified ? found : null;
    return this.issuedOnRequest(
      ctx,
      "verify_email",
      to,
      { tokenHash, expiresAt, email },
      {
        type: "identity.user.verification_requested",
        unknown: "verifications",
      },
    );
  }

  /**
   * Stores a reset token when the email has a user, voiding the user's other
   * reset tokens; returns whom to mail, or null. An unknown email costs the
   * same: the same transaction, an event (`user_id: null`), the same commit.
   */
  requestPasswordReset(input: In<"requestPasswordReset">): Out<"requestPasswordReset"> {
    const { ctx, email, tokenHash, expiresAt } = rpcArgs(DirectoryRpc, "requestPasswordReset", input);
    return this.issuedOnRequest(
      ctx,
      "password_reset",
      this.store.credentials(email),
      { tokenHash, expiresAt, email },
      {
        type: "identity.password.reset_requested",
        unknown: "password_resets",
      },
    );
  }

  /**
   * Spends a reset token: sets the password, voids the user's other reset tokens and the two-factor
   * challenges the old password bought, ends every session, and marks the email verified: the token reached its owner through that mailbox,
   * which is all a verification token proves (a user whose verification mail expired is not
   * left locked out by a tenant that requires it).
   */
  confirmPasswordReset(input: In<"confirmPasswordReset">): Out<"confirmPasswordReset"> {
    const { ctx, tokenHash, passwordHash } = rpcArgs(DirectoryRpc, "confirmPasswordReset", input);
    if (this.heldBySuspended("password_reset", tokenHash, ctx.now)) return fail("suspended");
    return this.committed(
      this.store.tx(() => {
        const spent = this.creds.spendOneTime(ctx, "password_reset", tokenHash);
        if (!spent.ok) return spent;
        const account = this.store.user(spent.value);
        if (!account) return fail("invalid");
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
        return ok({ userId: spent.value, email: account.email });
      }),
    );
  }

  /**
   * Stores a token of `kind` for the account the request names (`to`; null: none it may go to),
   * voiding its earlier ones (only the newest works), and returns whom to mail, or null. A
   * suspended account gets no token (it could not work): the mail says why instead, and its
   * earlier tokens stay as they were, refused until a reactivation. Every request costs the same:
   * the same transaction, an event (`user_id: null` for no account), the same commit.
   */
  private issuedOnRequest(
    ctx: Origin,
    kind: "verify_email" | "password_reset",
    to: { userId: string; suspended: boolean } | null,
    token: { tokenHash: string; expiresAt: string; email: string },
    event: { type: "identity.user.verification_requested" | "identity.password.reset_requested"; unknown: string },
  ): Out<"requestPasswordReset"> {
    const userId = to?.userId ?? null;
    const suspended = to?.suspended === true;
    this.store.tx(() => {
      if (userId !== null && !suspended) {
        this.creds.voidOneTime(ctx, kind, userId);
        this.creds.issueOneTime(kind, userId, token.tokenHash, token.expiresAt);
      }
      this.store.emit(ctx, userId ? `user/${userId}` : event.unknown, { type: event.type, data: { user_id: userId } });
    });
    return this.committed(userId ? { email: token.email, suspended } : null);
  }

  /**
   * Whether a mailed token of `kind` belongs to a suspended account: refused unspent then (the
   * mailbox that holds it proved the account), so once reactivated the same link works.
   */
  private heldBySuspended(kind: "verify_email" | "password_reset", tokenHash: string, now: string): boolean {
    const holder = this.creds.oneTimeUser(kind, tokenHash, now);
    return holder !== null && this.store.suspended(holder);
  }
}
