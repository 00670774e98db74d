import { DurableObject } from "cloudflare:workers";
import { migrateSqlite } from "../src/kernel/durable/sqlite-schema";
import { createLogger } from "../src/kernel/log";
import { pendingOutbox } from "../src/kernel/outbox";
import { OutboxRelay } from "../src/kernel/outbox/drain";
import { Authority } from "../src/modules/identity/directory/authority";
import { Credentials, type Reused } from "../src/modules/identity/directory/credentials";
import { KeyMaterial } from "../src/modules/identity/directory/key-material";
import { Roles, type RoleView } from "../src/modules/identity/directory/roles";
import { DIRECTORY_SCHEMA } from "../src/modules/identity/directory/schema";
import { DirectoryStore } from "../src/modules/identity/directory/store";
import {
  type Denied,
  denied,
  fail,
  type KeyView,
  ok,
  type Result,
  type UserPrincipal,
  type UserView,
} from "../src/modules/identity/directory/types";
import { Args, Email, Id, type In, Limit, parse, RoleName } from "./tenant-directory-args";

/**
 * One per tenant: the single writer of its users, roles, API keys,
 * refresh-token families and one-time tokens. A thin RPC adapter over
 * DirectoryStore/Credentials/Roles; every state change and its outbox events
 * commit in one SQLite transaction, and an OutboxRelay moves the events to
 * the `EVENTS` queue after the commit (and from `alarm()` on failure). Every
 * change of authority asks the policy (src/modules/identity/policy.ts) first,
 * with the directory's current state, in the same call as the write.
 */
export class TenantDirectory extends DurableObject<Env> {
  private readonly store: DirectoryStore;
  private readonly creds: Credentials;
  private readonly roles: Roles;
  private readonly keys: KeyMaterial;
  private readonly authority: Authority;
  private readonly relay: OutboxRelay;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new DirectoryStore(ctx.storage);
    this.creds = new Credentials(this.store);
    this.roles = new Roles(this.store);
    this.keys = new KeyMaterial(this.store);
    this.authority = new Authority(this.store, this.creds, this.roles);
    this.relay = new OutboxRelay(ctx.storage, {
      log: createLogger("error", { component: "outbox", durable_object: "TenantDirectory", id: ctx.id.toString() }),
    });
    void ctx.blockConcurrencyWhile(async () => {
      migrateSqlite(ctx.storage, DIRECTORY_SCHEMA);
    });
  }

  /** Retries the outbox drain with backoff; also the safety net if a post-commit drain died. */
  override async alarm(): Promise<void> {
    await this.relay.onAlarm(this.env.EVENTS);
  }

  /** Passes a mutation's result through, starting the outbox drain now that it committed. */
  private committed<T>(result: T): T {
    this.relay.afterCommit(this.ctx, this.env.EVENTS);
    return result;
  }

  init(input: In<"init">): { created: boolean } {
    const { ctx, tenant, adminKey } = parse(Args.init, input);
    return this.committed(
      this.store.tx(() => {
        const created = this.store.init(ctx, tenant);
        if (created) this.creds.createKey(ctx, { ...adminKey, scopes: ["*"], expiresAt: null });
        return { created };
      }),
    );
  }

  register(input: In<"register">): Result<UserView, "email_taken"> {
    const { ctx, user, verification } = parse(Args.register, input);
    return this.committed(
      this.store.tx(() => {
        const result = this.store.register(ctx, { ...user, role: "member" });
        if (result.ok) this.creds.issueOneTime("verify_email", user.id, verification.hash, verification.expiresAt);
        return result;
      }),
    );
  }

  /** For login: the stored hash (the Worker verifies it, keeping Argon2 off this single thread). */
  loginLookup(email: string): { userId: string; passwordHash: string; mayLogin: boolean } | null {
    const found = this.store.credentials(parse(Email, email));
    if (!found) return null;
    const requireVerified = this.store.setting("require_verified_email") === "true";
    return {
      userId: found.userId,
      passwordHash: found.passwordHash,
      mayLogin: !requireVerified || found.emailVerified,
    };
  }

  loginSucceeded(input: In<"loginSucceeded">): Result<UserPrincipal, "not_found"> {
    const { ctx, userId, familyId, tokenHash, rehash } = parse(Args.loginSucceeded, input);
    const principal = this.store.principal(userId);
    if (!principal) return fail("not_found");
    this.store.tx(() => {
      if (rehash) this.store.setPasswordHash(userId, rehash, ctx.now);
      this.creds.startFamily(ctx, userId, familyId, tokenHash);
    });
    return this.committed(ok(principal));
  }

  loginFailed(input: In<"loginFailed">): void {
    const { ctx, reason } = parse(Args.loginFailed, input);
    this.store.tx(() => this.store.emit(ctx, "identity.login.failed", "logins", { reason }));
    this.committed(null);
  }

  refresh(input: In<"refresh">): Result<{ principal: UserPrincipal; familyId: string }, "invalid"> | Reused {
    const { ctx, presentedHash, nextHash } = parse(Args.refresh, input);
    return this.committed(this.creds.rotate(ctx, presentedHash, nextHash));
  }

  logout(input: In<"presented">): { userId: string | null } {
    const { ctx, presentedHash } = parse(Args.presented, input);
    return this.committed({ userId: this.creds.logout(ctx, presentedHash) });
  }

  verifyEmail(input: In<"token">): Result<null, "invalid"> {
    const { ctx, tokenHash } = parse(Args.token, input);
    return this.committed(
      this.store.tx(() => {
        const spent = this.creds.spendOneTime(ctx, "verify_email", tokenHash);
        if (!spent.ok) return spent;
        this.store.sql.exec("update users set email_verified = 1, updated_at = ? where id = ?", ctx.now, spent.value);
        this.store.emit(ctx, "identity.user.email_verified", `user/${spent.value}`, { user_id: spent.value });
        return ok(null);
      }),
    );
  }

  /**
   * Stores a reset token when the email has a user, voiding the user's other
   * reset tokens; returns whom to mail, or null. An unknown email costs the
   * same: the same transaction, an event (`user_id: null`), the same commit.
   */
  requestPasswordReset(input: In<"requestPasswordReset">): { email: string } | null {
    const { ctx, email, tokenHash, expiresAt } = parse(Args.requestPasswordReset, input);
    const userId = this.store.credentials(email)?.userId ?? null;
    this.store.tx(() => {
      if (userId !== null) {
        this.creds.voidOneTime(ctx, "password_reset", userId);
        this.creds.issueOneTime("password_reset", userId, tokenHash, expiresAt);
      }
      this.store.emit(ctx, "identity.password.reset_requested", userId ? `user/${userId}` : "password_resets", {
        user_id: userId,
      });
    });
    return this.committed(userId ? { email } : null);
  }

  /** Spends a reset token: sets the password, voids the user's other reset tokens, ends every session. */
  confirmPasswordReset(input: In<"confirmPasswordReset">): Result<string, "invalid"> {
    const { ctx, tokenHash, passwordHash } = parse(Args.confirmPasswordReset, input);
    return this.committed(
      this.store.tx(() => {
        const spent = this.creds.spendOneTime(ctx, "password_reset", tokenHash);
        if (!spent.ok) return spent;
        this.store.setPasswordHash(spent.value, passwordHash, ctx.now);
        this.creds.voidOneTime(ctx, "password_reset", spent.value);
        this.creds.revokeAllFamilies(ctx, spent.value, "password_reset");
        this.store.emit(ctx, "identity.password.reset", `user/${spent.value}`, { user_id: spent.value });
        return ok(spent.value);
      }),
    );
  }

  /** The stored password hash of a user, for a password change (verified in the Worker). */
  passwordHashOf(userId: string): string | null {
    return this.store.passwordHashOf(parse(Id, userId));
  }

  /** Sets a new password hash, voids outstanding reset tokens and revokes every other session of the user. */
  changePassword(input: In<"changePassword">): void {
    const { ctx, userId, passwordHash, keepFamily } = parse(Args.changePassword, input);
    this.store.tx(() => {
      this.store.setPasswordHash(userId, passwordHash, ctx.now);
      this.creds.voidOneTime(ctx, "password_reset", userId);
      this.creds.revokeAllFamilies(ctx, userId, "password_changed", keepFamily);
      this.store.emit(ctx, "identity.password.changed", `user/${userId}`, { user_id: userId });
    });
    this.committed(null);
  }

  getUser(id: string): UserView | null {
    return this.store.user(parse(Id, id));
  }

  principal(userId: string): UserPrincipal | null {
    return this.store.principal(parse(Id, userId));
  }

  listUsers(input: In<"page">): { items: UserView[]; next: string | null } {
    const { limit, cursor } = parse(Args.page, input);
    return this.store.listUsers(limit, cursor);
  }

  updateUser(input: In<"updateUser">): Result<UserView, "not_found"> {
    const { ctx, id, patch } = parse(Args.updateUser, input);
    return this.committed(this.store.updateUser(ctx, id, patch));
  }

  /** Deletes a user the caller may remove (policy: their permissions held, owner rules). */
  deleteUser(input: In<"byId">): Result<null, "not_found"> | Denied {
    const { ctx, id } = parse(Args.byId, input);
    const user = this.authority.user(id);
    if (!user) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "user.delete", user, owners: this.authority.owners() });
    if (refusal) return denied(refusal);
    return this.committed(
      this.store.tx(() => {
        this.creds.revokeAllFamilies(ctx, id, "user_deleted");
        return this.store.deleteUser(ctx, id);
      }),
    );
  }

  /** Creates a key whose scopes (and expiry, for a key made by a key) the caller may give. */
  createKey(input: In<"createKey">): { ok: true; value: KeyView } | Denied {
    const { ctx, key } = parse(Args.createKey, input);
    const refusal = this.authority.check(ctx, { type: "key.create", scopes: key.scopes, expiresAt: key.expiresAt });
    if (refusal) return denied(refusal);
    return this.committed(ok(this.creds.createKey(ctx, key)));
  }

  listKeys(input: In<"page">): { items: KeyView[]; next: string | null } {
    const { limit, cursor } = parse(Args.page, input);
    return this.creds.listKeys(limit, cursor);
  }

  /** Revokes a key and the keys it created (cascade), if the caller holds the key's scopes. */
  revokeKey(input: In<"byId">): Result<{ id: string; hash: string }[], "not_found"> | Denied {
    const { ctx, id } = parse(Args.byId, input);
    const key = this.creds.key(id);
    if (!key) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "key.revoke", key });
    if (refusal) return denied(refusal);
    return this.committed(this.creds.revokeKey(ctx, id));
  }

  verifyKey(input: In<"verifyKey">): KeyView | null {
    const { hash, now } = parse(Args.verifyKey, input);
    return this.creds.verifyKey(hash, now);
  }

  touchKey(input: In<"touchKey">): void {
    const { id, now } = parse(Args.touchKey, input);
    this.creds.touchKey(id, now);
    this.committed(null);
  }

  listRoles(): RoleView[] {
    return this.roles.list();
  }

  getRole(name: string): RoleView | null {
    return this.roles.get(parse(RoleName, name));
  }

  createRole(input: In<"role">): Result<RoleView, "exists"> | Denied {
    const { ctx, role } = parse(Args.role, input);
    const refusal = this.authority.check(ctx, { type: "role.create", permissions: role.permissions });
    if (refusal) return denied(refusal);
    return this.committed(this.roles.create(ctx, role));
  }

  replaceRole(input: In<"role">): Result<RoleView, "not_found"> | Denied {
    const { ctx, role } = parse(Args.role, input);
    const current = this.roles.get(role.name);
    if (!current) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "role.rewrite", role: current, permissions: role.permissions });
    if (refusal) return denied(refusal);
    return this.committed(ok(this.roles.replace(ctx, role)));
  }

  deleteRole(input: In<"roleName">): Result<null, "not_found" | "in_use"> | Denied {
    const { ctx, name } = parse(Args.roleName, input);
    const role = this.roles.get(name);
    if (!role) return fail("not_found");
    const refusal = this.authority.check(ctx, { type: "role.delete", role });
    if (refusal) return denied(refusal);
    return this.committed(this.roles.delete(ctx, name));
  }

  /** Grants (`grant: true`) or revokes a role binding, if the policy allows it. */
  bindRole(input: In<"bindRole">): Result<null, "no_user" | "no_role"> | Denied {
    const { ctx, userId, role: name, grant } = parse(Args.bindRole, input);
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
  keySeed(input: In<"keySeed">): string | null {
    const { create, now } = parse(Args.keySeed, input);
    const { seed, created } = this.keys.seed(create, now);
    if (created) this.committed(null);
    return seed;
  }

  /** Crypto-shredding: destroys the seed, so the tenant's ciphertexts can never be read again. */
  destroyKeyMaterial(input: In<"ctxOnly">): void {
    this.keys.destroy(parse(Args.ctxOnly, input).ctx);
    this.committed(null);
  }

  /** Changes tenant settings; records `identity.settings.updated` with what changed. */
  updateSettings(input: In<"updateSettings">): void {
    const { ctx, ...settings } = parse(Args.updateSettings, input);
    if (settings.require_verified_email === undefined) return;
    const value = settings.require_verified_email;
    this.store.tx(() => {
      this.store.setSetting("require_verified_email", String(value));
      this.store.emit(ctx, "identity.settings.updated", "settings", { require_verified_email: value });
    });
    this.committed(null);
  }

  /**
   * Events not yet accepted by the `EVENTS` queue (JSON), oldest first: empty
   * once a drain succeeded; what is left while the queue is failing.
   */
  outbox(limit = 100): string[] {
    return pendingOutbox(this.store.sql, parse(Limit, limit)).map((e) => JSON.stringify(e));
  }
}
