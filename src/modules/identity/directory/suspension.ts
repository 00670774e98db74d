import type { Origin } from "../../../kernel/events/origin";
import type { Credentials } from "./credentials";
import type { DirectoryStore } from "./store";
import { fail, ok, type Result, type UserView } from "./types";

/** A suspension or reactivation: the user after it, and whether it changed anything (a repeat does not). */
export interface SuspensionChange {
  user: UserView;
  changed: boolean;
}

/**
 * Member suspension (docs/identity.md#suspending-a-member): an administrator blocks an account
 * without deleting it. Suspended, the user signs in nowhere (the store's `principal` answers
 * null, so no access token, refresh or new session of theirs is accepted), every session ends in
 * the suspension's transaction, and the keys they created hold nothing (key-chain.ts) until they
 * are reactivated. Their account, roles, keys and history stay. Inside the caller's authority check.
 */
export class Suspensions {
  constructor(
    private readonly store: DirectoryStore,
    private readonly creds: Credentials,
  ) {}

  /** Suspends user `id` with `reason`; a suspended user stays as they are (no event, `changed: false`). */
  suspend(ctx: Origin, id: string, reason: string | null): Result<SuspensionChange, "not_found"> {
    const before = this.store.user(id);
    if (!before) return fail("not_found");
    // Idempotent: a retry neither moves suspended_at nor replaces the reason the first call gave.
    if (before.status === "suspended") return ok({ user: before, changed: false });
    this.store.tx(() => {
      this.store.sql.exec(
        "update users set suspended_at = ?, suspended_reason = ?, updated_at = ? where id = ?",
        ctx.now,
        reason,
        ctx.now,
        id,
      );
      this.creds.revokeAllFamilies(ctx, id, "user_suspended");
      // An address change asked before would be confirmed by a mailbox while the account is blocked.
      this.creds.voidOneTime(ctx, "email_change", id);
      this.store.emit(
        ctx,
        `user/${id}`,
        { type: "identity.user.suspended", data: { user_id: id, reason } },
        reason === null ? {} : { reason },
      );
    });
    return ok({ user: this.after(id), changed: true });
  }

  /** Reactivates user `id`; an active user stays as they are. Sessions ended by the suspension stay ended. */
  reactivate(ctx: Origin, id: string): Result<SuspensionChange, "not_found"> {
    const before = this.store.user(id);
    if (!before) return fail("not_found");
    if (before.status === "active") return ok({ user: before, changed: false });
    this.store.tx(() => {
      this.store.sql.exec(
        "update users set suspended_at = null, suspended_reason = null, updated_at = ? where id = ?",
        ctx.now,
        id,
      );
      this.store.emit(ctx, `user/${id}`, { type: "identity.user.reactivated", data: { user_id: id } });
    });
    return ok({ user: this.after(id), changed: true });
  }

  private after(id: string): UserView {
    const user = this.store.user(id);
    if (!user) throw new Error(`user ${id} vanished inside its own suspension`);
    return user;
  }
}
