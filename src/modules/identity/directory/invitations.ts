import { z } from "@hono/zod-openapi";
import { storedJson } from "../../../kernel/db/stored-json";
import { type Actor, ActorSchema } from "../../../kernel/events/envelope";
import type { Origin } from "../../../kernel/events/origin";
import type { Caller } from "../policy";
import type { DirectoryStore } from "./store";
import { fail, ok, type Result, Strings } from "./types";

/** Why an invitation was revoked: by `DELETE`, by a newer invitation to the address, with an account deleted, or with the key that sent it. */
type RevocationReason = "revoked" | "replaced" | "invitee_deleted" | "inviter_deleted" | "inviter_revoked";

/** What the audit entry of a revocation the administrator did not ask for records of its cause. */
type RevocationFacts =
  | { reason: "invitee_deleted" | "inviter_deleted"; user_id: string }
  | { reason: "inviter_revoked"; key_id: string };

/**
 * Why a pending invitation would be refused if accepted now (membership.ts, `voidReason`): a role
 * it names is gone (`role_deleted`), its sender no longer exists (`sender_gone`: a deleted
 * account, a revoked or expired key), or its sender no longer holds what it hands out
 * (`sender_lacks_authority`). Shown beside `status: "pending"`, which it does not change: the
 * invitation is still revocable, and a sender whose role comes back makes it good again.
 */
export const VoidReasonSchema = z.enum(["role_deleted", "sender_gone", "sender_lacks_authority"]);
export type VoidReason = z.infer<typeof VoidReasonSchema>;

/**
 * The expiry of an invitation `sender` makes when `requested` is its usual lifetime: never past
 * the sending key's own expiry. Acceptance asks the sender again and refuses a key that expired,
 * so a later expiry would only keep listed as `pending` an invitation nobody can accept.
 *
 * @example
 * invitationExpiry({ kind: "api_key", id, scopes, expiresAt: "2026-01-02T00:00:00.000Z" }, "2026-01-08T00:00:00.000Z");
 * // "2026-01-02T00:00:00.000Z"
 */
export function invitationExpiry(sender: Caller, requested: string): string {
  if (sender.kind !== "api_key" || sender.expiresAt === null) return requested;
  return Date.parse(sender.expiresAt) < Date.parse(requested) ? sender.expiresAt : requested;
}

/** Where an invitation stands: waiting for its invitee, or ended one of three ways. */
export const InvitationStatusSchema = z.enum(["pending", "accepted", "revoked", "expired"]);
export type InvitationStatus = z.infer<typeof InvitationStatusSchema>;

/**
 * What accepting a token needs to know first: its email, and that email's account here (the Worker
 * checks its password, then refuses a suspended one before anything is stored for it).
 */
export const InvitationLookupSchema = z
  .object({
    email: z.string(),
    existing: z.object({ userId: z.string(), passwordHash: z.string(), suspended: z.boolean() }).nullable(),
  })
  .nullable();

/** An invitation as the contract shows it (never its token). */
export const InvitationViewSchema = z
  .object({
    id: z.string(),
    /** The invitee's address; once the invitation ended, masked for a caller who may not manage invitations (invitation-privacy.ts). */
    email: z.string().openapi({
      description:
        "the invitee's address; once the invitation is accepted, revoked or expired, masked (j***@example.com) for a caller who may read invitations but not create and revoke them",
    }),
    roles: z.array(z.string()),
    status: InvitationStatusSchema,
    /** Only on a pending invitation that acceptance would refuse now: why ({@link VoidReasonSchema}). */
    void_reason: VoidReasonSchema.optional().openapi({
      description:
        "present only on a pending invitation that acceptance would refuse now (its token answers invalid_token): role_deleted, sender_gone (the account or key that sent it no longer exists) or sender_lacks_authority (its sender no longer holds what the roles grant); revoke it and invite again",
    }),
    /** When it left `pending`: accepted or revoked then, or its `expires_at`; null while pending. */
    status_changed_at: z.string().nullable(),
    /** The account that accepted it; null unless accepted. */
    user_id: z.string().nullable(),
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
  accepted_at: string | null;
  accepted_by: string | null;
  revoked_at: string | null;
};

/** A row's status at `now`, and when it took it. Accepting and revoking need a pending invitation, so at most one is set. */
function statusOf(r: Row, now: string): { status: InvitationStatus; at: string | null } {
  if (r.accepted_at !== null) return { status: "accepted", at: r.accepted_at };
  if (r.revoked_at !== null) return { status: "revoked", at: r.revoked_at };
  if (r.expires_at <= now) return { status: "expired", at: r.expires_at };
  return { status: "pending", at: null };
}

const view = (r: Row, now: string): InvitationView => {
  const { status, at } = statusOf(r, now);
  return {
    id: r.id,
    email: r.email,
    roles: Strings.parse(storedJson(r.roles, `invitation ${r.id} roles`)),
    status,
    status_changed_at: at,
    user_id: status === "accepted" ? r.accepted_by : null,
    expires_at: r.expires_at,
    created_at: r.created_at,
  };
};

/** A pending invitation with who sent it, for acceptance. */
export interface Pending extends InvitationView {
  invitedBy: Actor;
}

/** Each status as a condition on a row at `?1`, the time of the read ({@link statusOf} in SQL). */
const WHERE: Record<InvitationStatus, string> = {
  pending: "accepted_at is null and revoked_at is null and expires_at > ?1",
  accepted: "accepted_at is not null",
  revoked: "revoked_at is not null",
  expired: "accepted_at is null and revoked_at is null and expires_at <= ?1",
};

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
    ctx: Origin,
    input: { id: string; email: string; roles: readonly string[]; tokenHash: string; expiresAt: string },
  ): InvitationView {
    this.store.tx(() => {
      for (const old of this.sql
        .exec<{ id: string }>(`select id from invitations where ${WHERE.pending} and email = ?2`, ctx.now, input.email)
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
      status: "pending",
      status_changed_at: null,
      user_id: null,
      expires_at: input.expiresAt,
      created_at: ctx.now,
    };
  }

  /** Invitations of one status at `now`, newest first, after the cursor (an id). */
  list(
    now: string,
    status: InvitationStatus,
    limit: number,
    after: string | null,
  ): { items: InvitationView[]; next: string | null } {
    const rows = this.sql
      .exec<Row>(
        // Numbered, so a condition that does not read the time still binds the same three values.
        `select * from invitations where ${WHERE[status]} and (?2 is null or id < ?2) order by id desc limit ?3`,
        now,
        after,
        limit + 1,
      )
      .toArray();
    const items = rows.slice(0, limit).map((r) => view(r, now));
    return { items, next: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
  }

  /**
   * The invitations user `userId` sent, any status, newest first, at most `limit` (until the purge
   * forgets an ended one): their export (personal-data.ts). Not those a key of theirs sent.
   */
  sentBy(userId: string, now: string, limit: number): InvitationView[] {
    return this.sql
      .exec<Row>(
        `select * from invitations where json_extract(invited_by, '$.kind') = 'user'
           and json_extract(invited_by, '$.id') = ? order by id desc limit ?`,
        userId,
        limit,
      )
      .toArray()
      .map((r) => view(r, now));
  }

  /** Who sent invitation `id`, or null when unknown. */
  sender(id: string): Actor | null {
    const row = this.sql
      .exec<{ invited_by: string }>("select invited_by from invitations where id = ?", id)
      .toArray()[0];
    return row ? ActorSchema.parse(storedJson(row.invited_by, `invitation ${id} invited_by`)) : null;
  }

  /** One invitation by id, whatever its status, until the purge forgets it ({@link purge}); null when unknown. */
  get(id: string, now: string): InvitationView | null {
    const row = this.sql.exec<Row>("select * from invitations where id = ?", id).toArray()[0];
    return row ? view(row, now) : null;
  }

  /** Revokes a pending invitation; one that ended already answers how it ended. */
  revoke(ctx: Origin, id: string): Result<null, "not_found" | "accepted" | "revoked" | "expired"> {
    const found = this.get(id, ctx.now);
    if (!found) return fail("not_found");
    if (found.status !== "pending") return fail(found.status);
    this.store.tx(() => this.revokeRow(ctx, id, "revoked"));
    return ok(null);
  }

  /**
   * Forgets invitations that ended (accepted, revoked or expired) at or before `endedBefore`,
   * returning how many: the row holds the invitee's email, kept only as long as an
   * administrator may still ask what became of the invitation.
   */
  purge(endedBefore: string): number {
    return this.sql
      .exec("delete from invitations where coalesce(accepted_at, revoked_at, expires_at) <= ? returning 1", endedBefore)
      .toArray().length;
  }

  /**
   * Forgets every invitation that names a person whose account is being deleted, inside the
   * deletion's transaction: the one they accepted (`accepted_by`), those to their address that
   * ended (revoked, expired: the purge would keep them 30 days), and a pending one, which the
   * email's uniqueness makes an invitation to this very account. That one is revoked first
   * (`reason: "invitee_deleted"`), so the audit log tells the administrator why it went; the
   * mailed token is refused from then on. Returns how many rows went.
   */
  forgetInvitee(ctx: Origin, user: { id: string; email: string }): number {
    for (const open of this.sql
      .exec<{ id: string }>(`select id from invitations where ${WHERE.pending} and email = ?2`, ctx.now, user.email)
      .toArray()) {
      this.revokeRow(ctx, open.id, "invitee_deleted", { reason: "invitee_deleted", user_id: user.id });
    }
    return this.sql
      .exec("delete from invitations where accepted_by = ? or email = ? returning 1", user.id, user.email)
      .toArray().length;
  }

  /**
   * Revokes the invitations pending from a person whose account is being deleted, inside the
   * deletion's transaction: those they sent, and those sent by `keyIds`, the keys revoked with
   * them (theirs and the keys minted from those). Acceptance would refuse most of them anyway
   * (a deleted sender holds nothing), but the list would still say `pending`; and one whose roles
   * grant no permission asks nothing of its sender, so it would still hand out an account. The
   * rows stay (the address is the invitee's), ended as `reason: "inviter_deleted"`. Returns how many.
   */
  revokeSentBy(ctx: Origin, user: { id: string }, keyIds: readonly string[]): number {
    const sent = this.pendingFrom(ctx.now, user.id, keyIds);
    for (const { id } of sent) {
      this.revokeRow(ctx, id, "inviter_deleted", { reason: "inviter_deleted", user_id: user.id });
    }
    return sent.length;
  }

  /**
   * Revokes the invitations pending from `keyIds`, keys being revoked (`DELETE` of a key and the
   * keys minted from it), inside the revocation's transaction: acceptance refuses them from then on
   * (their sender no longer exists), so the list must not say `pending`. Each is ended as
   * `reason: "inviter_revoked"`, its audit naming the key that sent it. Returns how many.
   */
  revokeSentByKeys(ctx: Origin, keyIds: readonly string[]): number {
    const sent = this.pendingFrom(ctx.now, null, keyIds);
    for (const { id, sender } of sent) {
      this.revokeRow(ctx, id, "inviter_revoked", { reason: "inviter_revoked", key_id: sender });
    }
    return sent.length;
  }

  /** The invitations pending at `now` sent by user `userId` (when not null) or by one of `keyIds`, by id. */
  private pendingFrom(now: string, userId: string | null, keyIds: readonly string[]): { id: string; sender: string }[] {
    return this.sql
      .exec<{ id: string; sender: string }>(
        `select id, json_extract(invited_by, '$.id') as sender from invitations where ${WHERE.pending} and (
           (json_extract(invited_by, '$.kind') = 'user' and json_extract(invited_by, '$.id') = ?2)
           or (json_extract(invited_by, '$.kind') = 'api_key'
               and json_extract(invited_by, '$.id') in (select value from json_each(?3))))
         order by id`,
        now,
        userId,
        JSON.stringify(keyIds),
      )
      .toArray();
  }

  private revokeRow(ctx: Origin, id: string, reason: RevocationReason, audit?: RevocationFacts): void {
    this.sql.exec("update invitations set revoked_at = ? where id = ?", ctx.now, id);
    this.store.emit(
      ctx,
      `invitation/${id}`,
      { type: "identity.invitation.revoked", data: { invitation_id: id, reason } },
      audit,
    );
  }

  /** Ids of the invitations pending at `now` that name `role`, oldest first. */
  pendingNaming(role: string, now: string): string[] {
    return this.sql
      .exec<{ id: string }>(
        `select id from invitations where ${WHERE.pending}
         and exists (select 1 from json_each(invitations.roles) where value = ?2) order by id`,
        now,
        role,
      )
      .toArray()
      .map((r) => r.id);
  }

  /** The pending invitation of a token, or null when it is unknown, used, revoked or expired. */
  pending(tokenHash: string, now: string): Pending | null {
    const row = this.sql
      .exec<Row>(`select * from invitations where ${WHERE.pending} and token_hash = ?2`, now, tokenHash)
      .toArray()[0];
    return row
      ? {
          ...view(row, now),
          invitedBy: ActorSchema.parse(storedJson(row.invited_by, `invitation ${row.id} invited_by`)),
        }
      : null;
  }

  /** Spends an invitation for `userId`; call inside the transaction that gives the user its roles. */
  accepted(ctx: Origin, id: string, userId: string): void {
    this.sql.exec("update invitations set accepted_at = ?, accepted_by = ? where id = ?", ctx.now, userId, id);
    this.store.emit(ctx, `invitation/${id}`, {
      type: "identity.invitation.accepted",
      data: { invitation_id: id, user_id: userId },
    });
  }
}
