import { rpcArgs } from "../../src/kernel/durable/rpc";
import type { Actor } from "../../src/kernel/events/envelope";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import {
  type InvitationView,
  invitationExpiry,
  type VoidReason,
} from "../../src/modules/identity/directory/invitations";
import type { RoleUses } from "../../src/modules/identity/directory/role-uses";
import { denied, fail, ok } from "../../src/modules/identity/directory/types";
import type { In, Out } from "./base";
import { DirectoryKeys } from "./keys";

/**
 * The directory's membership: invitations into the tenant with roles, by an
 * administrator who holds those roles' permissions, accepted once with the
 * mailed token (a new account with a verified email, or an existing one that
 * gains the roles).
 */
export class DirectoryMembership extends DirectoryKeys {
  createInvitation(input: In<"createInvitation">): Out<"createInvitation"> {
    const { ctx, invitation } = rpcArgs(DirectoryRpc, "createInvitation", input);
    const roles = invitation.roles.map((name) => this.roles.get(name));
    if (roles.some((r) => r === null)) return fail("no_role");
    const refusal = this.authority.check(ctx, { type: "invitation.create", roles: roles.flatMap((r) => r ?? []) });
    if (refusal) return denied(refusal);
    // A key's invitation does not outlive the key: acceptance would refuse it from then on.
    const expiresAt = invitationExpiry(this.authority.caller(ctx.actor, ctx.now), invitation.expiresAt);
    return this.committed(ok(this.invitations.create(ctx, { ...invitation, expiresAt })));
  }

  listInvitations(input: In<"listInvitations">): Out<"listInvitations"> {
    const { now, status, limit, cursor } = rpcArgs(DirectoryRpc, "listInvitations", input);
    const page = this.invitations.list(now, status, limit, cursor);
    return { ...page, items: page.items.map((i) => this.withVoidReason(i, now)) };
  }

  getInvitation(input: In<"getInvitation">): Out<"getInvitation"> {
    const { id, now } = rpcArgs(DirectoryRpc, "getInvitation", input);
    const found = this.invitations.get(id, now);
    return found ? this.withVoidReason(found, now) : null;
  }

  /**
   * Why acceptance would refuse pending invitation `invitation`, sent by `sender`, at `now`; null
   * when it would not. The checks of acceptance, in its order, so the list says what the token will.
   */
  protected voidReason(invitation: { roles: readonly string[] }, sender: Actor, now: string): VoidReason | null {
    const roles = invitation.roles.flatMap((name) => this.roles.get(name) ?? []);
    // A role gone since the invitation (deleted before deletion checked invitations): nobody joins
    // with fewer rights than the invitation said.
    if (roles.length !== invitation.roles.length) return "role_deleted";
    // A sender that no longer exists (a deleted user, a revoked or expired key): the policy's check
    // alone passes such a sender when the roles grant nothing, as nothing is asked.
    if (this.authority.caller(sender, now).kind === "nobody") return "sender_gone";
    const ctx = { now, actor: sender, requestId: null };
    if (this.authority.check(ctx, { type: "invitation.create", roles })) return "sender_lacks_authority";
    return null;
  }

  /** A pending invitation as listed: with `void_reason` when acceptance would refuse it now. */
  private withVoidReason(invitation: InvitationView, now: string): InvitationView {
    if (invitation.status !== "pending") return invitation;
    const sender = this.invitations.sender(invitation.id);
    const reason = sender ? this.voidReason(invitation, sender, now) : "sender_gone";
    return reason ? { ...invitation, void_reason: reason } : invitation;
  }

  revokeInvitation(input: In<"revokeInvitation">): Out<"revokeInvitation"> {
    const { ctx, id } = rpcArgs(DirectoryRpc, "revokeInvitation", input);
    return this.committed(this.invitations.revoke(ctx, id));
  }

  /** A pending invitation promises its roles: deleting one of them would hand the invitee fewer rights. */
  protected override roleUses(name: string, now: string): RoleUses {
    return { ...super.roleUses(name, now), invitations: this.invitations.pendingNaming(name, now) };
  }

  /**
   * Housekeeping (the tenants module's `purge-tokens` job): forgets expired and spent tokens,
   * dead families, long-expired API keys, and invitations that ended long enough ago. Here,
   * the first layer that holds both credentials and invitations.
   */
  purgeExpired(input: In<"purgeExpired">): Out<"purgeExpired"> {
    const { now, keysExpiredBefore, invitationsEndedBefore } = rpcArgs(DirectoryRpc, "purgeExpired", input);
    // A job that listed the tenant before its erasure: nothing is left to forget, and the
    // write refusal (store.tx) must not fail its run for the tenants after this one.
    if (this.store.erased()) {
      return {
        one_time_tokens: 0,
        families: 0,
        refresh_tokens: 0,
        key_hashes: [],
        invitations: 0,
        mail_dismissals: [],
      };
    }
    const purged = this.creds.purgeExpired(now, keysExpiredBefore);
    return {
      ...purged,
      invitations: this.invitations.purge(invitationsEndedBefore),
      mail_dismissals: this.mailDismissals.pending(),
    };
  }

  invitationLookup(input: In<"invitationLookup">): Out<"invitationLookup"> {
    const { tokenHash, now } = rpcArgs(DirectoryRpc, "invitationLookup", input);
    const pending = this.invitations.pending(tokenHash, now);
    if (!pending) return null;
    const found = this.store.credentials(pending.email);
    return {
      email: pending.email,
      existing: found ? { userId: found.userId, passwordHash: found.passwordHash, suspended: found.suspended } : null,
    };
  }

  /**
   * Spends the token: creates the account (email verified, the invited roles)
   * or gives an existing one the roles, and starts a session, in one
   * transaction. The invitation is void when its sender no longer exists or no longer
   * holds what it hands out, and `changed` when the account appeared or went since the lookup.
   */
  acceptInvitation(input: In<"acceptInvitation">): Out<"acceptInvitation"> {
    const { ctx, tokenHash, newUser, existing, session, userAgent } = rpcArgs(DirectoryRpc, "acceptInvitation", input);
    if ((newUser === null) === (existing === null)) return fail("invalid");
    const existingUserId = existing?.userId ?? null;
    const pending = this.invitations.pending(tokenHash, ctx.now);
    if (!pending) return fail("invalid");
    // Void (a role gone, a sender gone or no longer holding what it hands out): refused as unknown.
    if (this.voidReason(pending, pending.invitedBy, ctx.now)) return fail("invalid");
    const roles = pending.roles.flatMap((name) => this.roles.get(name) ?? []);
    const found = this.store.credentials(pending.email);
    if ((found?.userId ?? null) !== existingUserId) return fail("changed");
    // The Worker verified the password against the hash the lookup gave: a reset or change committed
    // meanwhile (an administrator's reset with sign_out voids it) must not grant roles nor a session, as
    // loginSucceeded refuses it. Checked before the suspension, which only a right password is told.
    if (existing !== null && found?.passwordHash !== existing.verifiedHash) return fail("password_changed");
    // A suspended account gains no roles and no session: the invitation stays pending, for its reactivation.
    if (existingUserId !== null && this.store.suspended(existingUserId)) return fail("suspended");
    const userId = this.store.tx(() => {
      let id: string;
      if (newUser) {
        const created = this.store.register(ctx, {
          ...newUser,
          email: pending.email,
          roles: roles.map((r) => r.name),
          emailVerified: true,
        });
        if (!created.ok) throw new Error("the email was taken inside the transaction");
        id = newUser.id;
      } else {
        id = existingUserId ?? "";
        for (const role of roles) this.roles.grant(ctx, id, role.name);
        this.store.markEmailVerified(ctx, id);
      }
      this.invitations.accepted(ctx, pending.id, id);
      if (session) {
        this.creds.startFamily(ctx, id, session.familyId, session.refreshHash);
        this.sessions.describe(session.familyId, ctx, userAgent);
      }
      return id;
    });
    const principal = this.store.principal(userId);
    return this.committed(principal ? ok(principal) : fail("invalid"));
  }
}
