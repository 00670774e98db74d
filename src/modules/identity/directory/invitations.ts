import { z } from "@hono/zod-openapi";
import { type Actor, ActorSchema } from "../../../kernel/events/envelope";
import type { DirectoryStore } from "./store";
import { type Ctx, fail, ok, type Result, Strings } from "./types";

/** A pending invitation as the contract shows it (never its token). */
export const InvitationViewSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    roles: z.array(z.string()),
    expires_at: z.string(),
    created_at: z.string(),
  })
  .openapi("Invitation");
export type InvitationView = z.infer<typeof InvitationViewSchema>;

type Row = {
  id: string;
  email: string;
  roles: string;
  invited_by: string;
  created_at: string;
  expires_at: string;
};

const view = (r: Row): InvitationView => ({
  id: r.id,
  email: r.email,
  roles: Strings.parse(JSON.parse(r.roles)),
  expires_at: r.expires_at,
  created_at: r.created_at,
});

/** A pending invitation with who sent it, for acceptance. */
export interface Pending extends InvitationView {
  invitedBy: Actor;
}

const PENDING = "accepted_at is null and revoked_at is null and expires_at > ?";

/**
 * A tenant's invitations in its directory: created by an administrator for an
 * email and roles, accepted once with the mailed token (stored by hash), or
 * revoked. Events carry ids and roles, never the email (PII stays erasable).
 */
export class Invitations {
  constructor(private readonly store: DirectoryStore) {}

  private get sql() {
    return this.store.sql;
  }

  /** Records an invitation; a pending one for the same email is revoked, so only the newest token works. */
  create(
    ctx: Ctx,
    input: { id: string; email: string; roles: readonly string[]; tokenHash: string; expiresAt: string },
  ): InvitationView {
    this.store.tx(() => {
      for (const old of this.sql
        .exec<{ id: string }>(`select id from invitations where email = ? and ${PENDING}`, input.email, ctx.now)
        .toArray()) {
        this.revokeRow(ctx, old.id, "replaced");
      }
      this.sql.exec(
        `insert into invitations (id, email, roles, token_hash, invited_by, created_at, expires_at)
         values (?, ?, ?, ?, ?, ?, ?)`,
        input.id,
        input.email,
        JSON.stringify(input.roles),
        input.tokenHash,
        JSON.stringify(ctx.actor),
        ctx.now,
        input.expiresAt,
      );
      this.store.emit(
        ctx,
        `invitation/${input.id}`,
        { type: "identity.invitation.created", data: { invitation_id: input.id, roles: [...input.roles] } },
        { roles: [...input.roles] },
      );
    });
    return {
      id: input.id,
      email: input.email,
      roles: [...input.roles],
      expires_at: input.expiresAt,
      created_at: ctx.now,
    };
  }

  /** Pending invitations (not accepted, revoked or expired), newest first, after the cursor (an id). */
  list(now: string, limit: number, after: string | null): { items: InvitationView[]; next: string | null } {
    const rows = this.sql
      .exec<Row>(
        `select * from invitations where ${PENDING} ${after ? "and id < ?" : ""} order by id desc limit ?`,
        ...(after ? [now, after, limit + 1] : [now, limit + 1]),
      )
      .toArray();
    const items = rows.slice(0, limit).map(view);
    return { items, next: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
  }

  /** One pending invitation by id, as {@link list} shows it; null when it is unknown, accepted, revoked or expired. */
  get(id: string, now: string): InvitationView | null {
    const row = this.sql.exec<Row>(`select * from invitations where id = ? and ${PENDING}`, id, now).toArray()[0];
    return row ? view(row) : null;
  }

  revoke(ctx: Ctx, id: string): Result<null, "not_found"> {
    const found = this.sql.exec(`select id from invitations where id = ? and ${PENDING}`, id, ctx.now).toArray();
    if (found.length === 0) return fail("not_found");
    this.store.tx(() => this.revokeRow(ctx, id, "revoked"));
    return ok(null);
  }

  private revokeRow(ctx: Ctx, id: string, reason: "revoked" | "replaced"): void {
    this.sql.exec("update invitations set revoked_at = ? where id = ?", ctx.now, id);
    this.store.emit(ctx, `invitation/${id}`, {
      type: "identity.invitation.revoked",
      data: { invitation_id: id, reason },
    });
  }

  /** The pending invitation of a token, or null when it is unknown, used, revoked or expired. */
  pending(tokenHash: string, now: string): Pending | null {
    const row = this.sql
      .exec<Row>(`select * from invitations where token_hash = ? and ${PENDING}`, tokenHash, now)
      .toArray()[0];
    return row ? { ...view(row), invitedBy: ActorSchema.parse(JSON.parse(row.invited_by)) } : null;
  }

  /** Spends an invitation for `userId`; call inside the transaction that gives the user its roles. */
  accepted(ctx: Ctx, id: string, userId: string): void {
    this.sql.exec("update invitations set accepted_at = ?, accepted_by = ? where id = ?", ctx.now, userId, id);
    this.store.emit(ctx, `invitation/${id}`, {
      type: "identity.invitation.accepted",
      data: { invitation_id: id, user_id: userId },
    });
  }
}
