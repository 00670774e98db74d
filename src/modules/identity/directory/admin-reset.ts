import type { Credentials } from "./credentials";
import type { DirectoryStore } from "./store";
import type { TwoFactor } from "./two-factor";
import type { Ctx } from "./types";

/** A reset token an administrator asked for: its hash and expiry, and whether to sign the user out with it. */
export interface AdminReset {
  tokenHash: string;
  expiresAt: string;
  signOut: boolean;
}

/** Why every session of a user ended with an administrator's reset (`identity.token.family_revoked`). */
export const ADMIN_RESET_REASON = "admin_password_reset";

/**
 * An administrator's password reset (docs/identity.md#resetting-a-members-password): the token and
 * mail a self-service reset gives, issued for an account the administrator names, and with
 * `signOut` every session of it ended and its two-factor challenges voided in the same transaction,
 * for a suspected compromise. The password is not changed: the member sets a new one with the token.
 * Inside the caller's authority check; the user exists and is not suspended.
 */
export class AdminResets {
  constructor(
    private readonly store: DirectoryStore,
    private readonly creds: Credentials,
    private readonly twoFactor: TwoFactor,
  ) {}

  /** Stores the reset token for `userId`, voiding their earlier ones (only the newest works); the sessions ended. */
  issue(ctx: Ctx, userId: string, reset: AdminReset): number {
    return this.store.tx(() => {
      this.creds.voidOneTime(ctx, "password_reset", userId);
      this.creds.issueOneTime("password_reset", userId, reset.tokenHash, reset.expiresAt);
      let ended = 0;
      if (reset.signOut) {
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
        { by: "admin", sign_out: reset.signOut },
      );
      return ended;
    });
  }
}
