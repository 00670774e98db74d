import { rpcArgs } from "../../src/kernel/durable/rpc";
import type { Origin } from "../../src/kernel/events/origin";
import { versionMatches } from "../../src/kernel/http/if-match";
import { pendingOutbox } from "../../src/kernel/outbox";
import { DirectoryRpc } from "../../src/modules/identity/directory/contract";
import { grantPairs } from "../../src/modules/identity/directory/module-grants";
import { RoleHolders } from "../../src/modules/identity/directory/role-holders";
import { isUsed, REGISTRATION_ROLE, type RoleUses, UNUSED } from "../../src/modules/identity/directory/role-uses";
import { denied, fail, ok, versionConflict } from "../../src/modules/identity/directory/types";
import { maySelfRegister, needsVerifiedEmail } from "../../src/modules/identity/signup";
import { DirectoryObject, type In, type Out } from "./base";

/**
 * The directory's accounts: tenant initialisation, registration, login and
 * refresh, users, roles and their bindings, key
 * material, settings and housekeeping.
 */
export class DirectoryAccounts extends DirectoryObject {
  private readonly roleHolders = new RoleHolders(this.store);

  init(input: In<"init">): Out<"init"> {
    const { ctx, tenant, adminKey, grants } = rpcArgs(DirectoryRpc, "init", input);
    return this.committed(
      this.store.tx(() => {
        const created = this.store.init(ctx, tenant, grants);
        if (created) {
          this.creds.createKey(ctx, { ...adminKey, scopes: ["*"], expiresAt: null });
          // The grants its roles start with are applied: the hourly sync never adds them again.
          this.grantLedger.record(grantPairs(grants), ctx.now);
        }
        return { created };
      }),
    );
  }

  register(input: In<"register">): Out<"register"> {
    const { ctx, user, verification } = rpcArgs(DirectoryRpc, "register", input);
    // The policy first: a closed tenant answers alike whether the email is known or not.
    if (!maySelfRegister(this.tenantSettings.current().signup, user.email)) {
      this.store.tx(() =>
        this.store.emit(ctx, "signups", {
          type: "identity.signup.refused",
          data: { mode: this.tenantSettings.current().signup.mode },
        }),
      );
      return this.committed(fail("signup_closed"));
    }
    return this.committed(
      this.store.tx(() => {
        // A directory that deleted member before deleting it was refused has none to give: the
        // user gets no role (what an emptied member gives), not a 500 from the missing row.
        const roles = this.roles.get(REGISTRATION_ROLE) ? [REGISTRATION_ROLE] : [];
        const result = this.store.register(ctx, { ...user, roles });
        if (result.ok) this.creds.issueOneTime("verify_email", user.id, verification.hash, verification.expiresAt);
        return result;
      }),
    );
  }

  /** For login: the stored hash (the Worker verifies it, keeping Argon2 off this single thread). */
  loginLookup(email: In<"loginLookup">): Out<"loginLookup"> {
    const found = this.store.credentials(rpcArgs(DirectoryRpc, "loginLookup", email));
    if (!found) return null;
    const settings = this.tenantSettings.current();
    const requireVerified = needsVerifiedEmail(settings.require_verified_email, settings.signup);
    return {
      userId: found.userId,
      passwordHash: found.passwordHash,
      mayLogin: !requireVerified || found.emailVerified,
      suspended: found.suspended,
    };
  }

  loginSucceeded(input: In<"loginSucceeded">): Out<"loginSucceeded"> {
    const { ctx, userId, familyId, tokenHash, rehash, verifiedHash, userAgent } = rpcArgs(
      DirectoryRpc,
      "loginSucceeded",
      input,
    );
    const principal = this.store.principal(userId);
    if (!principal) return fail("not_found");
    // The password was verified in the Worker against the hash loginLookup gave: a reset or change
    // committed meanwhile (an administrator's reset voids it) must not get a session, nor its rehash.
    if (this.store.passwordHashOf(userId) !== verifiedHash) return fail("password_changed");
    this.store.tx(() => {
      if (rehash) this.store.setPasswordHash(userId, rehash, ctx.now);
      this.creds.startFamily(ctx, userId, familyId, tokenHash);
      this.sessions.describe(familyId, ctx, userAgent);
    });
    return this.committed(ok(principal));
  }

  loginFailed(input: In<"loginFailed">): Out<"loginFailed"> {
    const { ctx, reason } = rpcArgs(DirectoryRpc, "loginFailed", input);
    // The audit entry says why, as the event does (a reason from a closed list: never what was typed, nor whose).
    this.store.tx(() =>
      this.store.emit(ctx, "logins", { type: "identity.login.failed", data: { reason } }, { reason }),
    );
    this.committed(null);
  }

  refresh(input: In<"refresh">): Out<"refresh"> {
    const { ctx, presentedHash, nextHash, nextSealed, userAgent } = rpcArgs(DirectoryRpc, "refresh", input);
    return this.committed(
      this.store.tx(() => {
        const rotated = this.creds.rotate(ctx, presentedHash, nextHash, nextSealed);
        if (rotated.ok) this.sessions.touch(rotated.value.familyId, ctx, userAgent);
        return rotated;
      }),
    );
  }

  logout(input: In<"logout">): Out<"logout"> {
    const { ctx, presentedHash } = rpcArgs(DirectoryRpc, "logout", input);
    return this.committed({ userId: this.creds.logout(ctx, presentedHash) });
  }

  /** The stored password hash of a user, for a password change (verified in the Worker). */
  passwordHashOf(userId: In<"passwordHashOf">): Out<"passwordHashOf"> {
    return this.store.passwordHashOf(rpcArgs(DirectoryRpc, "passwordHashOf", userId));
  }

  /**
   * Sets a new password hash, voids outstanding reset tokens and two-factor challenges, and revokes
   * every other session of the user; refused (`password_changed`) when the stored hash is no longer
   * the one the Worker verified the current password against.
   */
  changePassword(input: In<"changePassword">): Out<"changePassword"> {
    const { ctx, userId, passwordHash, keepFamily, verifiedHash } = rpcArgs(DirectoryRpc, "changePassword", input);
    // Verified off this thread: a reset (an administrator's voids the password) or another change
    // committed meanwhile must not be overwritten by the old password's holder.
    if (this.store.passwordHashOf(userId) !== verifiedHash) return fail("password_changed");
    this.store.tx(() => {
      this.store.setPasswordHash(userId, passwordHash, ctx.now);
      this.creds.voidOneTime(ctx, "password_reset", userId);
      this.creds.voidOneTime(ctx, "email_change", userId);
      this.creds.revokeAllFamilies(ctx, userId, "password_changed", keepFamily);
      this.twoFactor.voidChallenges(ctx, userId);
      this.store.emit(ctx, `user/${userId}`, { type: "identity.password.changed", data: { user_id: userId } });
    });
    return this.committed(ok(null));
  }

  getUser(id: In<"getUser">): Out<"getUser"> {
    return this.store.user(rpcArgs(DirectoryRpc, "getUser", id));
  }

  principal(userId: In<"principal">): Out<"principal"> {
    return this.store.principal(rpcArgs(DirectoryRpc, "principal", userId));
  }

  listUsers(input: In<"listUsers">): Out<"listUsers"> {
    const { limit, cursor } = rpcArgs(DirectoryRpc, "listUsers", input);
    return this.store.listUsers(limit, cursor);
  }

  usersWithRole(input: In<"usersWithRole">): Out<"usersWithRole"> {
    const { roles, limit } = rpcArgs(DirectoryRpc, "usersWithRole", input);
    return this.roleHolders.of(roles, limit);
  }

  updateUser(input: In<"updateUser">): Out<"updateUser"> {
    const { ctx, id, patch } = rpcArgs(DirectoryRpc, "updateUser", input);
    const user = this.authority.user(id);
    if (!user) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "user.update", user });
    if (refusal) return denied(refusal);
    return this.committed(this.store.updateUser(ctx, id, patch));
  }

  /**
   * Deletes a user the caller may remove (policy: their permissions held, owner rules), an
   * administrator's deletion: never the caller's own account, which `DELETE /me` deletes with proof.
   */
  deleteUser(input: In<"deleteUser">): Out<"deleteUser"> {
    const { ctx, id, recipient } = rpcArgs(DirectoryRpc, "deleteUser", input);
    return this.removeUser(ctx, id, false, recipient ?? null);
  }

  /** The request (or the purge job) dismissed a deleted account's mail dead letters in D1. */
  mailDismissed(input: In<"mailDismissed">): Out<"mailDismissed"> {
    this.mailDismissals.done(rpcArgs(DirectoryRpc, "mailDismissed", input).digests);
  }

  /**
   * Why deleting user `id` would fail (no such user, or the policy's refusal); null when it may go
   * ahead. `proven`: the caller proved the account is theirs (`deleteOwnAccount`).
   */
  protected deletionRefused(ctx: Origin, id: string, proven: boolean): Exclude<Out<"deleteUser">, { ok: true }> | null {
    const user = this.authority.user(id);
    if (!user) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "user.delete", user, owners: this.authority.owners(), proven });
    if (refusal) return denied(refusal);
    // The user's keys go with them: a calling key among them would lock itself out behind a 204,
    // as revoking the key that minted it would (revokes_own_key).
    const key = ctx.actor.kind === "api_key" ? ctx.actor.id : null;
    if (key !== null && this.creds.revokedWithUser(key, id)) return fail("revokes_caller");
    return null;
  }

  /** The deletion, asked of the policy in the same call: sessions, created keys, invitations naming or sent by them (docs/identity.md). */
  protected removeUser(ctx: Origin, id: string, proven: boolean, recipient: string | null): Out<"deleteUser"> {
    const refused = this.deletionRefused(ctx, id, proven);
    const email = this.store.user(id)?.email;
    if (refused || email === undefined) return refused ?? fail("not_found");
    return this.committed(
      this.store.tx(() => {
        this.creds.revokeAllFamilies(ctx, id, "user_deleted");
        const keys = this.creds.revokeKeysOf(ctx, id);
        this.invitations.forgetInvitee(ctx, { id, email });
        this.invitations.revokeSentBy(
          ctx,
          { id },
          keys.map((k) => k.id),
        );
        // Their mail dead letters are D1's: recorded here, so a dismissal that fails is retried.
        if (recipient !== null) this.mailDismissals.remember(recipient, ctx.now);
        const deleted = this.store.deleteUser(ctx, id);
        return deleted.ok ? ok({ revokedKeys: keys, email }) : deleted;
      }),
    );
  }

  listRoles(): Out<"listRoles"> {
    return this.roles.list();
  }

  getRole(name: In<"getRole">): Out<"getRole"> {
    return this.roles.get(rpcArgs(DirectoryRpc, "getRole", name));
  }

  createRole(input: In<"createRole">): Out<"createRole"> {
    const { ctx, role } = rpcArgs(DirectoryRpc, "createRole", input);
    const refusal = this.authority.check(ctx, { type: "role.create", permissions: role.permissions });
    if (refusal) return denied(refusal);
    return this.committed(this.roles.create(ctx, role));
  }

  /** The version is compared after the authority policy (a 403 before a 412) and in the same step as the write. */
  replaceRole(input: In<"replaceRole">): Out<"replaceRole"> {
    const { ctx, role, expectedVersion } = rpcArgs(DirectoryRpc, "replaceRole", input);
    const current = this.roles.get(role.name);
    if (!current) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "role.rewrite", role: current, permissions: role.permissions });
    if (refusal) return denied(refusal);
    if (!versionMatches(expectedVersion, current.version)) return versionConflict(current.version);
    return this.committed(ok(this.roles.replace(ctx, role)));
  }

  deleteRole(input: In<"deleteRole">): Out<"deleteRole"> {
    const { ctx, name, expectedVersion } = rpcArgs(DirectoryRpc, "deleteRole", input);
    const role = this.roles.get(name);
    if (!role) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "role.delete", role });
    if (refusal) return denied(refusal);
    if (!versionMatches(expectedVersion, role.version)) return versionConflict(role.version);
    const uses = this.roleUses(name, ctx.now);
    if (isUsed(uses)) return { ok: false, error: "in_use", uses };
    return this.committed(ok(this.roles.delete(ctx, role)));
  }

  /**
   * What names a role at `now`, so deleting it would take rights from someone unnoticed: here
   * its holders; the layers that keep invitations and the SSO provider add theirs.
   */
  protected roleUses(name: string, _now: string): RoleUses {
    return { ...UNUSED, users: this.roles.holders(name).length, registration: name === REGISTRATION_ROLE };
  }

  /** Grants (`grant: true`) or revokes a role binding, if the policy allows it. */
  bindRole(input: In<"bindRole">): Out<"bindRole"> {
    const { ctx, userId, role: name, grant } = rpcArgs(DirectoryRpc, "bindRole", input);
    const user = this.authority.user(userId);
    if (!user) return fail("no_user");
    const role = this.roles.get(name);
    if (!role) return fail("no_role");
    const owners = this.authority.owners();
    const refusal = this.authority.check(
      ctx,
      grant ? { type: "role.grant", role, user } : { type: "role.revoke", role, user, owners },
    );
    if (refusal) return denied(refusal);
    if (grant) this.roles.grant(ctx, userId, name);
    else this.roles.revoke(ctx, userId, name);
    return this.committed(ok(null));
  }

  /**
   * The tenant's envelope-encryption seed (base64url), created on first use
   * when `create` is set; null once destroyed.
   */
  keySeed(input: In<"keySeed">): Out<"keySeed"> {
    const { create, now } = rpcArgs(DirectoryRpc, "keySeed", input);
    // Shredded with its tenant's erasure (eraseAll): a late seal (a request or event still on its
    // way) must find the key material destroyed, not create a seed the erased tenant never had.
    if (this.store.erased()) return null;
    const { seed, created } = this.keys.seed(create, now);
    if (created) this.committed(null);
    return seed;
  }

  /** Crypto-shredding: destroys the seed, so the tenant's ciphertexts can never be read again. */
  destroyKeyMaterial(input: In<"destroyKeyMaterial">): Out<"destroyKeyMaterial"> {
    this.keys.destroy(rpcArgs(DirectoryRpc, "destroyKeyMaterial", input).ctx);
    this.committed(null);
  }

  /** The tenant's settings and their version. */
  settings(): Out<"settings"> {
    return this.tenantSettings.current();
  }

  /** Changes tenant settings at `expectedVersion` (If-Match); records `identity.settings.updated` with what changed. */
  updateSettings(input: In<"updateSettings">): Out<"updateSettings"> {
    const { ctx, patch, expectedVersion } = rpcArgs(DirectoryRpc, "updateSettings", input);
    if (this.tenantSettings.changes(patch, "mail_links")) {
      const refusal = this.authority.check(ctx, { type: "mail_links.change" });
      if (refusal) return denied(refusal);
    }
    return this.committed(this.tenantSettings.update(ctx, patch, expectedVersion));
  }

  /**
   * Events not yet accepted by the `EVENTS` queue (JSON), oldest first: empty
   * once a drain succeeded; what is left while the queue is failing.
   */
  outbox(limit: In<"outbox">): Out<"outbox"> {
    return pendingOutbox(this.store.sql, rpcArgs(DirectoryRpc, "outbox", limit)).map((e) => JSON.stringify(e));
  }
}
