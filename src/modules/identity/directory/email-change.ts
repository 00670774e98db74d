import type { Origin } from "../../../kernel/events/origin";
import type { Credentials } from "./credentials";
import type { DirectoryStore } from "./store";
import type { TwoFactor } from "./two-factor";
import { fail, ok, provenUser, type Result } from "./types";

/** The one-time token kind of an email change (kept in `one_time_tokens`, purged with them). */
export const EMAIL_CHANGE = "email_change";

/** What a request for an email change did: whom to mail the token (null: the address is taken), and the old address. */
export interface EmailChangeAsked {
  previous: string;
  mailTo: string | null;
}

/** A confirmed change: whose, the address it replaced (told of it), and which session it left signed in. */
export interface EmailChanged {
  userId: string;
  previous: string;
}

/**
 * A user's change of email address, in two steps: the request stores a single-use token for the
 * new address (its hash, the address, the asking session), and the token, mailed there, makes the
 * change. Nothing changes until then, so a typo or an address that is not theirs changes nothing;
 * the address must still be free when the token comes back (unique per tenant).
 */
export class EmailChanges {
  constructor(
    private readonly store: DirectoryStore,
    private readonly creds: Credentials,
    private readonly twoFactor: TwoFactor,
  ) {}

  /**
   * Voids the user's earlier change tokens (only the newest works) and, when `newEmail` is free,
   * stores one for it. A taken address (the user's own included) stores nothing and says so only
   * to the Worker, which answers 202 either way: the request reveals no more than registering does.
   */
  request(
    ctx: Origin,
    a: { userId: string; newEmail: string; tokenHash: string; expiresAt: string; keepFamily: string | null },
  ): EmailChangeAsked | null {
    const user = this.store.user(a.userId);
    if (!user) return null;
    const free = this.store.credentials(a.newEmail) === null;
    this.store.tx(() => {
      this.creds.voidOneTime(ctx, EMAIL_CHANGE, a.userId);
      if (free)
        this.store.sql.exec(
          `insert into one_time_tokens (token_hash, kind, user_id, expires_at, new_email, keep_family)
             values (?, ?, ?, ?, ?, ?)`,
          a.tokenHash,
          EMAIL_CHANGE,
          a.userId,
          a.expiresAt,
          a.newEmail,
          a.keepFamily,
        );
      this.store.emit(ctx, `user/${a.userId}`, {
        type: "identity.user.email_change_requested",
        data: { user_id: a.userId },
      });
    });
    return { previous: user.email, mailTo: free ? a.newEmail : null };
  }

  /**
   * Spends a change token and makes the change: the address set and verified (the token came
   * through it), the tokens mailed to the old address voided (a reset or verification link there
   * must not outlive the change), every other session signed out and the two-factor challenges
   * its password bought voided, as a password change does. A token whose address was taken since
   * is spent and refused (`email_taken`): the user asks again.
   */
  confirm(ctx: Origin, tokenHash: string): Result<EmailChanged, "invalid" | "email_taken"> {
    return this.store.tx(() => {
      const row = this.store.sql
        .exec<{
          user_id: string;
          kind: string;
          expires_at: string;
          used_at: string | null;
          new_email: string | null;
          keep_family: string | null;
        }>(
          "select user_id, kind, expires_at, used_at, new_email, keep_family from one_time_tokens where token_hash = ?",
          tokenHash,
        )
        .toArray()[0];
      if (!row || row.kind !== EMAIL_CHANGE || row.used_at !== null || row.expires_at <= ctx.now || !row.new_email)
        return fail("invalid");
      this.store.sql.exec("update one_time_tokens set used_at = ? where token_hash = ?", ctx.now, tokenHash);
      const user = this.store.user(row.user_id);
      if (!user) return fail("invalid");
      if (this.store.credentials(row.new_email) !== null) return fail("email_taken");
      this.store.sql.exec(
        "update users set email = ?, email_verified = 1, updated_at = ? where id = ?",
        row.new_email,
        ctx.now,
        user.id,
      );
      for (const kind of ["verify_email", "password_reset", EMAIL_CHANGE] as const)
        this.creds.voidOneTime(ctx, kind, user.id);
      // The token mailed to the new address proves the user: the sessions its change ends name them too.
      const byUser = provenUser(ctx, user.id);
      this.creds.revokeAllFamilies(byUser, user.id, "email_changed", row.keep_family);
      this.twoFactor.voidChallenges(ctx, user.id);
      this.store.emit(byUser, `user/${user.id}`, {
        type: "identity.user.email_changed",
        data: { user_id: user.id },
      });
      return ok({ userId: user.id, previous: user.email });
    });
  }
}
