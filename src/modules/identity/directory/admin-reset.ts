import type { Origin } from "../../../kernel/events/origin";
import type { Credentials } from "./credentials";
import type { DirectoryStore } from "./store";
import type { TwoFactor } from "./two-factor";

/** A reset token an administrator asked for: its hash and expiry, and whether to sign the user out with it. */
export interface AdminReset {
  tokenHash: string;
  expiresAt: string;
  signOut: boolean;
}

/** Why every session of a user ended with an administrator's reset (`identity.token.family_revoked`). */
export const ADMIN_RESET_REASON = "admin_password_reset";

/**
 * The password hash of a user whose password an administrator's reset with `signOut` voided: not a
 * PHC string, so no password verifies against it (a login is refused as a wrong password is) until
 * the member sets a new one with a reset token.
 */
export const VOIDED_PASSWORD = "!reset";

/** What an administrator's reset did: the sessions it ended, and whether it voided a password. */
export interface AdminResetDone {
  sessionsEnded: number;
  passwordVoided: boolean;
}

/**
 * An administrator's password reset (docs/identity.md#resetting-a-members-password): the token and
 * mail a self-service reset gives, issued for an account the administrator names, and with
 * `signOut` every session of it ended, its two-factor challenges voided and its password voided in
 * the same transaction, for a suspected compromise: whoever stole the password cannot sign back in
 * before the member sets a new one with the token. Without `signOut` the password keeps working.
 * Inside the caller's authority check; the user exists and is not suspended.
 */
export class AdminResets {
  constructor(
    private readonly store: DirectoryStore,
    private readonly creds: Credentials,
    private readonly twoFactor: TwoFactor,
  ) {}

  /** Stores the reset token for `userId`, voiding their earlier ones (only the newest works). */
  issue(ctx: Origin, userId: string, reset: AdminReset): AdminResetDone {
    return this.store.tx(() => {
      this.creds.voidOneTime(ctx, "password_reset", userId);
      this.creds.issueOneTime("password_reset", userId, reset.tokenHash, reset.expiresAt);
      let ended = 0;
      let voided = false;
      if (reset.signOut) {
        // The stolen password would sign straight back in after the sign-out. An account without
        // one (made by single sign-on) keeps its marker: its provider's sign-in is not a password.
        voided = this.store.voidPassword(userId, VOIDED_PASSWORD, ctx.now);
        ended = this.creds.revokeAllFamilies(ctx, userId, ADMIN_RESET_REASON);
        // A challenge the current password earned would start a session after the sign-out.
        this.twoFactor.voidChallenges(ctx, userId);
        // An address change asked from a stolen session, confirmed before the member's reset, would
        // void this very token (a change voids the old address's reset tokens) and take the account.
        this.creds.voidOneTime(ctx, "email_change", userId);
      }
      // The self-service request's event, by the administrator: the audit entry tells the two apart.
      this.store.emit(
        ctx,
        `user/${userId}`,
        { type: "identity.password.reset_requested", data: { user_id: userId } },
        { by: "admin", sign_out: reset.signOut, password_voided: voided },
      );
      return { sessionsEnded: ended, passwordVoided: voided };
    });
  }
}
