import type { Origin } from "../../../kernel/events/origin";
import type { DirectoryStore } from "./store";
import { fail, ok, type Result, type SessionView } from "./types";

/** The longest user agent a session keeps: enough to tell browsers apart, bounded so a client cannot bloat storage. */
export const USER_AGENT_MAX = 256;

/** A user agent as a session stores it: trimmed, at most {@link USER_AGENT_MAX} characters, null when empty. */
export function clampUserAgent(userAgent: string | null | undefined): string | null {
  const trimmed = userAgent?.trim().slice(0, USER_AGENT_MAX) ?? "";
  return trimmed === "" ? null : trimmed;
}

interface SessionRow extends Record<string, SqlStorageValue> {
  id: string;
  created_at: string;
  last_used_at: string | null;
  user_agent: string | null;
  ip_hash: string | null;
}

const view = (r: SessionRow): SessionView => ({
  id: r.id,
  created_at: r.created_at,
  last_used_at: r.last_used_at,
  user_agent: r.user_agent,
  ip_hash: r.ip_hash,
});

/** How a session came to be revoked, as its `identity.session.revoked` event says. */
export type SessionRevocation = "self" | "admin";

/**
 * A session is live while its family (`f`) is not revoked and holds a refresh token that is neither
 * spent nor expired (the one parameter: now).
 */
export const LIVE = `f.revoked_at is null and exists (
  select 1 from refresh_tokens t where t.family_id = f.id and t.spent_at is null and t.expires_at > ?)`;

/**
 * Sessions: the refresh-token families of a user as the user sees them (when
 * and where each began, when it was last refreshed), and their revocation one
 * at a time or all but one. Revoking a session revokes its family, so its
 * refresh token stops at once and its access tokens stop within the user
 * cache's bound (the same path as logout).
 */
export class Sessions {
  constructor(private readonly store: DirectoryStore) {}

  private get sql() {
    return this.store.sql;
  }

  /** Records where a new family (a login) comes from; inside the login's transaction. */
  describe(familyId: string, ctx: Origin, userAgent: string | null | undefined): void {
    this.sql.exec(
      "update token_families set user_agent = ?, ip_hash = ?, last_used_at = ? where id = ?",
      clampUserAgent(userAgent),
      ctx.ipHash ?? null,
      ctx.now,
      familyId,
    );
  }

  /** A refresh used the family: its last use, and where from (the newest address and agent are the useful ones). */
  touch(familyId: string, ctx: Origin, userAgent: string | null | undefined): void {
    this.sql.exec(
      `update token_families set last_used_at = ?, ip_hash = coalesce(?, ip_hash), user_agent = coalesce(?, user_agent)
        where id = ?`,
      ctx.now,
      ctx.ipHash ?? null,
      clampUserAgent(userAgent),
      familyId,
    );
  }

  /** A user's live sessions, newest first, `limit` of them after the cursor (a session id). */
  list(
    userId: string,
    now: string,
    limit: number,
    before: string | null,
  ): { items: SessionView[]; next: string | null } {
    const rows = this.sql
      .exec<SessionRow>(
        `select f.id, f.created_at, f.last_used_at, f.user_agent, f.ip_hash from token_families f
          where f.user_id = ? and f.id < ? and ${LIVE} order by f.id desc limit ?`,
        userId,
        before ?? "\u{10FFFF}",
        now,
        limit + 1,
      )
      .toArray();
    const page = rows.slice(0, limit);
    return { items: page.map(view), next: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
  }

  /** The live session ids of a user. */
  private liveIds(userId: string, now: string): string[] {
    return this.sql
      .exec<{ id: string }>(`select f.id from token_families f where f.user_id = ? and ${LIVE}`, userId, now)
      .toArray()
      .map((r) => r.id);
  }

  /** Revokes one live session of the user; another user's session, or a dead one, is not found. */
  revoke(ctx: Origin, userId: string, sessionId: string, by: SessionRevocation): Result<null, "not_found"> {
    if (!this.liveIds(userId, ctx.now).includes(sessionId)) return fail("not_found");
    this.store.tx(() => this.revokeOne(ctx, userId, sessionId, by));
    return ok(null);
  }

  /** Revokes every live session of the user except `keep` (the caller's own, or none); returns how many. */
  revokeAll(ctx: Origin, userId: string, keep: string | null, by: SessionRevocation): number {
    const ids = this.liveIds(userId, ctx.now).filter((id) => id !== keep);
    this.store.tx(() => {
      for (const id of ids) this.revokeOne(ctx, userId, id, by);
    });
    return ids.length;
  }

  private revokeOne(ctx: Origin, userId: string, familyId: string, by: SessionRevocation): void {
    this.sql.exec("update token_families set revoked_at = ? where id = ? and revoked_at is null", ctx.now, familyId);
    this.store.emit(
      ctx,
      `user/${userId}`,
      { type: "identity.session.revoked", data: { user_id: userId, family_id: familyId, by } },
      { session_id: familyId, by },
    );
  }
}
