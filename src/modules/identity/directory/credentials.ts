import type { Origin } from "../../../kernel/events/origin";
import { ApiKeys } from "./api-keys";
import { fail, ok, provenUser, type Result, type UserPrincipal } from "./types";

/** Refresh tokens live 30 days; each refresh spends one and issues the next. */
export const REFRESH_TTL_MS = 30 * 24 * 3600 * 1000;
/** Expired API keys one purge forgets at most: its reply (their hashes) stays small, and the rest go next time. */
export const KEY_PURGE_MAX = 1_000;

/**
 * How long after a refresh its spent token is answered the same successor instead of
 * revoking the family. Two tabs of one browser refresh at once, and a client retries a
 * refresh whose response was lost: both present a token spent a moment ago by themselves.
 * Ten seconds covers a slow network and a retry; a thief replaying a stolen token within
 * it gets only the token its victim got, and whichever of them refreshes second, past the
 * grace, still revokes the family.
 */
export const REFRESH_GRACE_MS = 10_000;

const plusMs = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** A spent refresh token presented again: its family is revoked; the caller forgets the user's cached sessions. */
export type Reused = { ok: false; error: "reused"; userId: string };

/**
 * A refresh that succeeded: `resent` is null when the presented token was spent now (its
 * successor is the caller's), or the sealed successor it was spent for within the grace.
 */
export type Rotated = Result<{ principal: UserPrincipal; familyId: string; resent: string | null }, "invalid">;

/**
 * Refresh-token families, one-time tokens and API keys of one tenant. The API
 * keys' methods are ApiKeys' (api-keys.ts), inherited so callers keep one handle.
 */
export class Credentials extends ApiKeys {
  /** Starts a family with its first refresh token (on login). */
  startFamily(ctx: Origin, userId: string, familyId: string, tokenHash: string): void {
    this.store.tx(() => {
      this.sql.exec("insert into token_families (id, user_id, created_at) values (?, ?, ?)", familyId, userId, ctx.now);
      this.sql.exec(
        "insert into refresh_tokens (token_hash, family_id, expires_at) values (?, ?, ?)",
        tokenHash,
        familyId,
        plusMs(ctx.now, REFRESH_TTL_MS),
      );
      this.store.emit(ctx, `user/${userId}`, {
        type: "identity.user.logged_in",
        data: { user_id: userId, family_id: familyId },
      });
    });
  }

  /**
   * Spends `presentedHash` and issues `nextHash` in the same family, atomically.
   * A token presented after it was spent revokes the whole family: someone
   * holds a copy.
   */
  rotate(ctx: Origin, presentedHash: string, nextHash: string, nextSealed: string): Rotated | Reused {
    const row = this.sql
      .exec<{
        family_id: string;
        expires_at: string;
        spent_at: string | null;
        user_id: string;
        revoked_at: string | null;
      }>(
        `select t.family_id, t.expires_at, t.spent_at, f.user_id, f.revoked_at
           from refresh_tokens t join token_families f on f.id = t.family_id
          where t.token_hash = ?`,
        presentedHash,
      )
      .toArray()[0];
    if (!row || row.revoked_at !== null) return fail("invalid");
    if (row.spent_at !== null) {
      const again = this.withinGrace(ctx, presentedHash, row.spent_at);
      const principal = again === null ? null : this.store.principal(row.user_id);
      if (again !== null && principal) return ok({ principal, familyId: row.family_id, resent: again });
      this.revokeFamily(ctx, row.family_id, row.user_id, "reuse_detected");
      return { ok: false, error: "reused", userId: row.user_id };
    }
    if (row.expires_at <= ctx.now) return fail("invalid");
    const principal = this.store.principal(row.user_id);
    if (!principal) return fail("invalid");
    this.store.tx(() => {
      this.sql.exec(
        "update refresh_tokens set spent_at = ?, successor_hash = ?, successor_sealed = ? where token_hash = ?",
        ctx.now,
        nextHash,
        nextSealed,
        presentedHash,
      );
      // The predecessor's grace ends when its successor is spent: it must not hand out a spent token.
      this.sql.exec("update refresh_tokens set successor_sealed = null where successor_hash = ?", presentedHash);
      this.sql.exec(
        "insert into refresh_tokens (token_hash, family_id, expires_at) values (?, ?, ?)",
        nextHash,
        row.family_id,
        plusMs(ctx.now, REFRESH_TTL_MS),
      );
      this.store.emit(provenUser(ctx, row.user_id), `user/${row.user_id}`, {
        type: "identity.token.refreshed",
        data: { user_id: row.user_id, family_id: row.family_id },
      });
    });
    return ok({ principal, familyId: row.family_id, resent: null });
  }

  /**
   * The sealed successor of a token spent less than {@link REFRESH_GRACE_MS} ago, while that
   * successor is still unspent and unexpired; null otherwise (the presentation is a reuse).
   */
  private withinGrace(ctx: Origin, presentedHash: string, spentAt: string): string | null {
    if (Date.parse(ctx.now) - Date.parse(spentAt) >= REFRESH_GRACE_MS) return null;
    const row = this.sql
      .exec<{ successor_sealed: string | null }>(
        `select t.successor_sealed from refresh_tokens t
           join refresh_tokens s on s.token_hash = t.successor_hash
          where t.token_hash = ? and s.spent_at is null and s.expires_at > ?`,
        presentedHash,
        ctx.now,
      )
      .toArray()[0];
    return row?.successor_sealed ?? null;
  }

  /** Revokes the family of a presented token (logout); unknown tokens are ignored. Returns its user. */
  logout(ctx: Origin, presentedHash: string): string | null {
    const row = this.sql
      .exec<{ family_id: string; user_id: string; revoked_at: string | null }>(
        `select t.family_id, f.user_id, f.revoked_at from refresh_tokens t
           join token_families f on f.id = t.family_id where t.token_hash = ?`,
        presentedHash,
      )
      .toArray()[0];
    // The family's token proves the user, as for a refresh (docs/audit.md, "Who acted").
    if (row && row.revoked_at === null)
      this.revokeFamily(provenUser(ctx, row.user_id), row.family_id, row.user_id, "logout");
    return row?.user_id ?? null;
  }

  private revokeFamily(ctx: Origin, familyId: string, userId: string, reason: string): void {
    this.store.tx(() => {
      this.sql.exec("update token_families set revoked_at = ? where id = ? and revoked_at is null", ctx.now, familyId);
      this.store.emit(
        ctx,
        `user/${userId}`,
        { type: "identity.token.family_revoked", data: { user_id: userId, family_id: familyId, reason } },
        { session_id: familyId, reason },
      );
    });
  }

  /**
   * Revokes every live family of a user (password reset or change, deletion),
   * except `keep` (the session that changed its own password); inside the caller's tx. Returns
   * how many it revoked.
   */
  revokeAllFamilies(ctx: Origin, userId: string, reason: string, keep: string | null = null): number {
    const families = this.sql
      .exec<{ id: string }>("select id from token_families where user_id = ? and revoked_at is null", userId)
      .toArray()
      .filter((f) => f.id !== keep);
    for (const f of families) {
      this.sql.exec("update token_families set revoked_at = ? where id = ?", ctx.now, f.id);
      this.store.emit(
        ctx,
        `user/${userId}`,
        { type: "identity.token.family_revoked", data: { user_id: userId, family_id: f.id, reason } },
        { session_id: f.id, reason },
      );
    }
    return families.length;
  }

  /** Stores a single-use token (email verification, password reset) by its hash. */
  issueOneTime(kind: "verify_email" | "password_reset", userId: string, tokenHash: string, expiresAt: string): void {
    this.sql.exec(
      "insert into one_time_tokens (token_hash, kind, user_id, expires_at) values (?, ?, ?, ?)",
      tokenHash,
      kind,
      userId,
      expiresAt,
    );
  }

  /**
   * Voids every outstanding single-use token of this kind for the user: a new
   * reset token, a used one and a password change each leave only the newest
   * (or none) working.
   */
  voidOneTime(ctx: Origin, kind: "verify_email" | "password_reset" | "email_change", userId: string): void {
    this.sql.exec(
      "update one_time_tokens set used_at = ? where user_id = ? and kind = ? and used_at is null",
      ctx.now,
      userId,
      kind,
    );
  }

  /** Spends a single-use token: unknown, used, expired or of another kind -> invalid. */
  /** The user of a live single-use token of `kind`, without spending it; null for any other token. */
  oneTimeUser(kind: string, tokenHash: string, now: string): string | null {
    const row = this.sql
      .exec<{ user_id: string }>(
        "select user_id from one_time_tokens where token_hash = ? and kind = ? and used_at is null and expires_at > ?",
        tokenHash,
        kind,
        now,
      )
      .toArray()[0];
    return row?.user_id ?? null;
  }

  spendOneTime(ctx: Origin, kind: string, tokenHash: string): Result<string, "invalid"> {
    const row = this.sql
      .exec<{ user_id: string; kind: string; expires_at: string; used_at: string | null }>(
        "select user_id, kind, expires_at, used_at from one_time_tokens where token_hash = ?",
        tokenHash,
      )
      .toArray()[0];
    if (!row || row.kind !== kind || row.used_at !== null || row.expires_at <= ctx.now) return fail("invalid");
    this.sql.exec("update one_time_tokens set used_at = ? where token_hash = ?", ctx.now, tokenHash);
    return ok(row.user_id);
  }

  /**
   * Forgets what can no longer be used, in one transaction: single-use tokens
   * that expired or were spent (or voided), refresh-token families that are
   * revoked or whose every token expired, with their tokens, and API keys that
   * expired or were revoked before `keysExpiredBefore` (at most {@link KEY_PURGE_MAX} a call; the
   * rest at the next). A live family keeps its spent tokens, so presenting one
   * still revokes it, but not their sealed successors once the grace is over.
   * Unknown and forgotten credentials are refused alike, so no answer changes.
   * Returns the purged keys' hashes, for the caller to remove from the D1 key index.
   */
  purgeExpired(
    now: string,
    keysExpiredBefore: string,
  ): { one_time_tokens: number; families: number; refresh_tokens: number; key_hashes: string[] } {
    return this.store.tx(() => {
      // Counted from `returning`: rowsWritten also counts index writes.
      const deleted = (query: string) => this.sql.exec(`${query} returning 1`, now).toArray().length;
      const dead = `select f.id from token_families f where f.revoked_at is not null
                      or not exists (select 1 from refresh_tokens t where t.family_id = f.id and t.expires_at > ?1)`;
      // A sealed successor past its grace can answer nothing: it is dropped, not kept for a key to leak.
      this.sql.exec(
        "update refresh_tokens set successor_sealed = null where successor_sealed is not null and spent_at <= ?",
        plusMs(now, -REFRESH_GRACE_MS),
      );
      return {
        one_time_tokens: deleted("delete from one_time_tokens where expires_at <= ?1 or used_at is not null"),
        refresh_tokens: deleted(`delete from refresh_tokens where family_id in (${dead})`),
        families: deleted(`delete from token_families where id in (${dead})`),
        key_hashes: this.sql
          .exec<{ key_hash: string }>(
            // Revoked keys go the same way, the same time after their revocation: their index
            // rows left at the revocation, but the directory kept them for good.
            `delete from api_keys where id in
               (select id from api_keys
                 where (expires_at is not null and expires_at <= ?1) or (revoked_at is not null and revoked_at <= ?1)
                 order by coalesce(revoked_at, expires_at) limit ?2)
             returning key_hash`,
            keysExpiredBefore,
            KEY_PURGE_MAX,
          )
          .toArray()
          .map((r) => r.key_hash),
      };
    });
  }
}
