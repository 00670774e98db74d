import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { migrateSqlite } from "../src/kernel/durable/sqlite-schema";
import { createLogger } from "../src/kernel/log";
import { pendingOutbox } from "../src/kernel/outbox";
import { OutboxRelay } from "../src/kernel/outbox/drain";
import { Credentials } from "../src/modules/identity/directory/credentials";
import { KeyMaterial } from "../src/modules/identity/directory/key-material";
import { Roles, type RoleView } from "../src/modules/identity/directory/roles";
import { DIRECTORY_SCHEMA } from "../src/modules/identity/directory/schema";
import { DirectoryStore } from "../src/modules/identity/directory/store";
import {
  type Ctx,
  fail,
  type KeyView,
  ok,
  type Result,
  type UserPrincipal,
  type UserView,
} from "../src/modules/identity/directory/types";
import {
  CtxSchema,
  Cursor,
  Email,
  Hash,
  Id,
  Iso,
  Limit,
  parse,
  RoleName,
  RoleSchema,
  Scopes,
} from "./tenant-directory-args";

/**
 * One per tenant: the single writer of its users, roles, API keys,
 * refresh-token families and one-time tokens. A thin RPC adapter over
 * DirectoryStore/Credentials; every state change and its outbox events
 * commit in one SQLite transaction, and an OutboxRelay moves the events to
 * the `EVENTS` queue after the commit (and from `alarm()` on failure).
 */
export class TenantDirectory extends DurableObject<Env> {
  private readonly store: DirectoryStore;
  private readonly creds: Credentials;
  private readonly roles: Roles;
  private readonly keys: KeyMaterial;
  private readonly relay: OutboxRelay;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new DirectoryStore(ctx.storage);
    this.creds = new Credentials(this.store);
    this.roles = new Roles(this.store);
    this.keys = new KeyMaterial(this.store);
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

  init(input: {
    ctx: Ctx;
    tenant: { id: string; slug: string; name: string; plan: string };
    adminKey: { id: string; name: string; prefix: string; hash: string };
  }): { created: boolean } {
    const { ctx, tenant, adminKey } = parse(
      z.object({
        ctx: CtxSchema,
        tenant: z.object({ id: Id, slug: z.string().max(63), name: z.string().max(200), plan: z.string().max(64) }),
        adminKey: z.object({ id: Id, name: z.string().max(200), prefix: z.string().max(64), hash: Hash }),
      }),
      input,
    );
    return this.committed(
      this.store.tx(() => {
        const created = this.store.init(ctx, tenant);
        if (created) this.creds.createKey(ctx, { ...adminKey, scopes: ["*"], expiresAt: null });
        return { created };
      }),
    );
  }

  register(input: {
    ctx: Ctx;
    user: { id: string; email: string; name: string; passwordHash: string };
    verification: { hash: string; expiresAt: string };
  }): Result<UserView, "email_taken"> {
    const { ctx, user, verification } = parse(
      z.object({
        ctx: CtxSchema,
        user: z.object({ id: Id, email: Email, name: z.string().min(1).max(200), passwordHash: z.string().max(512) }),
        verification: z.object({ hash: Hash, expiresAt: Iso }),
      }),
      input,
    );
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

  loginSucceeded(input: {
    ctx: Ctx;
    userId: string;
    familyId: string;
    tokenHash: string;
    rehash: string | null;
  }): Result<UserPrincipal, "not_found"> {
    const { ctx, userId, familyId, tokenHash, rehash } = parse(
      z.object({ ctx: CtxSchema, userId: Id, familyId: Id, tokenHash: Hash, rehash: z.string().max(512).nullable() }),
      input,
    );
    const principal = this.store.principal(userId);
    if (!principal) return fail("not_found");
    this.store.tx(() => {
      if (rehash) this.store.setPasswordHash(userId, rehash, ctx.now);
      this.creds.startFamily(ctx, userId, familyId, tokenHash);
    });
    return this.committed(ok(principal));
  }

  loginFailed(input: { ctx: Ctx; reason: "unknown_email" | "bad_password" | "email_not_verified" }): void {
    const { ctx, reason } = parse(
      z.object({ ctx: CtxSchema, reason: z.enum(["unknown_email", "bad_password", "email_not_verified"]) }),
      input,
    );
    this.store.tx(() => this.store.emit(ctx, "identity.login.failed", "logins", { reason }));
    this.committed(null);
  }

  refresh(input: {
    ctx: Ctx;
    presentedHash: string;
    nextHash: string;
  }): Result<{ principal: UserPrincipal; familyId: string }, "invalid" | "reused"> {
    const { ctx, presentedHash, nextHash } = parse(
      z.object({ ctx: CtxSchema, presentedHash: Hash, nextHash: Hash }),
      input,
    );
    return this.committed(this.creds.rotate(ctx, presentedHash, nextHash));
  }

  logout(input: { ctx: Ctx; presentedHash: string }): { userId: string | null } {
    const { ctx, presentedHash } = parse(z.object({ ctx: CtxSchema, presentedHash: Hash }), input);
    return this.committed({ userId: this.creds.logout(ctx, presentedHash) });
  }

  verifyEmail(input: { ctx: Ctx; tokenHash: string }): Result<null, "invalid"> {
    const { ctx, tokenHash } = parse(z.object({ ctx: CtxSchema, tokenHash: Hash }), input);
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

  /** Stores a reset token when the email has a user; returns whom to mail, or null. */
  requestPasswordReset(input: {
    ctx: Ctx;
    email: string;
    tokenHash: string;
    expiresAt: string;
  }): { email: string } | null {
    const { ctx, email, tokenHash, expiresAt } = parse(
      z.object({ ctx: CtxSchema, email: Email, tokenHash: Hash, expiresAt: Iso }),
      input,
    );
    const found = this.store.credentials(email);
    if (!found) return null;
    this.store.tx(() => {
      this.creds.issueOneTime("password_reset", found.userId, tokenHash, expiresAt);
      this.store.emit(ctx, "identity.password.reset_requested", `user/${found.userId}`, { user_id: found.userId });
    });
    return this.committed({ email });
  }

  confirmPasswordReset(input: { ctx: Ctx; tokenHash: string; passwordHash: string }): Result<string, "invalid"> {
    const { ctx, tokenHash, passwordHash } = parse(
      z.object({ ctx: CtxSchema, tokenHash: Hash, passwordHash: z.string().max(512) }),
      input,
    );
    return this.committed(
      this.store.tx(() => {
        const spent = this.creds.spendOneTime(ctx, "password_reset", tokenHash);
        if (!spent.ok) return spent;
        this.store.setPasswordHash(spent.value, passwordHash, ctx.now);
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

  /** Sets a new password hash and revokes every other session of the user. */
  changePassword(input: { ctx: Ctx; userId: string; passwordHash: string; keepFamily: string | null }): void {
    const { ctx, userId, passwordHash, keepFamily } = parse(
      z.object({ ctx: CtxSchema, userId: Id, passwordHash: z.string().max(512), keepFamily: Id.nullable() }),
      input,
    );
    this.store.tx(() => {
      this.store.setPasswordHash(userId, passwordHash, ctx.now);
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

  listUsers(input: { limit: number; cursor: string | null }): { items: UserView[]; next: string | null } {
    const { limit, cursor } = parse(z.object({ limit: Limit, cursor: Cursor }), input);
    return this.store.listUsers(limit, cursor);
  }

  updateUser(input: { ctx: Ctx; id: string; patch: { name?: string } }): Result<UserView, "not_found"> {
    const { ctx, id, patch } = parse(
      z.object({ ctx: CtxSchema, id: Id, patch: z.object({ name: z.string().min(1).max(200).optional() }) }),
      input,
    );
    return this.committed(this.store.updateUser(ctx, id, patch));
  }

  deleteUser(input: { ctx: Ctx; id: string }): Result<null, "not_found"> {
    const { ctx, id } = parse(z.object({ ctx: CtxSchema, id: Id }), input);
    return this.committed(
      this.store.tx(() => {
        this.creds.revokeAllFamilies(ctx, id, "user_deleted");
        return this.store.deleteUser(ctx, id);
      }),
    );
  }

  createKey(input: {
    ctx: Ctx;
    key: { id: string; name: string; prefix: string; hash: string; scopes: string[]; expiresAt: string | null };
  }): KeyView {
    const { ctx, key } = parse(
      z.object({
        ctx: CtxSchema,
        key: z.object({
          id: Id,
          name: z.string().min(1).max(200),
          prefix: z.string().max(64),
          hash: Hash,
          scopes: Scopes,
          expiresAt: Iso.nullable(),
        }),
      }),
      input,
    );
    return this.committed(this.creds.createKey(ctx, key));
  }

  listKeys(input: { limit: number; cursor: string | null }): { items: KeyView[]; next: string | null } {
    const { limit, cursor } = parse(z.object({ limit: Limit, cursor: Cursor }), input);
    return this.creds.listKeys(limit, cursor);
  }

  revokeKey(input: { ctx: Ctx; id: string }): Result<{ hash: string }, "not_found"> {
    const { ctx, id } = parse(z.object({ ctx: CtxSchema, id: Id }), input);
    return this.committed(this.creds.revokeKey(ctx, id));
  }

  verifyKey(input: { hash: string; now: string }): KeyView | null {
    const { hash, now } = parse(z.object({ hash: Hash, now: Iso }), input);
    return this.creds.verifyKey(hash, now);
  }

  touchKey(input: { id: string; now: string }): void {
    const { id, now } = parse(z.object({ id: Id, now: Iso }), input);
    this.creds.touchKey(id, now);
    this.committed(null);
  }

  listRoles(): RoleView[] {
    return this.roles.list();
  }

  getRole(name: string): RoleView | null {
    return this.roles.get(parse(RoleName, name));
  }

  createRole(input: { ctx: Ctx; role: RoleView }): Result<RoleView, "exists"> {
    const { ctx, role } = parse(z.object({ ctx: CtxSchema, role: RoleSchema }), input);
    return this.committed(this.roles.create(ctx, role));
  }

  replaceRole(input: { ctx: Ctx; role: RoleView }): Result<RoleView, "not_found" | "owner_fixed"> {
    const { ctx, role } = parse(z.object({ ctx: CtxSchema, role: RoleSchema }), input);
    return this.committed(this.roles.replace(ctx, role));
  }

  deleteRole(input: { ctx: Ctx; name: string }): Result<null, "not_found" | "owner_fixed" | "in_use"> {
    const { ctx, name } = parse(z.object({ ctx: CtxSchema, name: RoleName }), input);
    return this.committed(this.roles.delete(ctx, name));
  }

  grantRole(input: { ctx: Ctx; userId: string; role: string }): Result<null, "no_user" | "no_role"> {
    const { ctx, userId, role } = parse(z.object({ ctx: CtxSchema, userId: Id, role: RoleName }), input);
    return this.committed(this.roles.grant(ctx, userId, role));
  }

  revokeRole(input: { ctx: Ctx; userId: string; role: string }): Result<null, "no_user" | "no_role" | "last_owner"> {
    const { ctx, userId, role } = parse(z.object({ ctx: CtxSchema, userId: Id, role: RoleName }), input);
    return this.committed(this.roles.revoke(ctx, userId, role));
  }

  /**
   * The tenant's envelope-encryption seed (base64url), created on first use
   * when `create` is set; null once destroyed.
   */
  keySeed(input: { create: boolean; now: string }): string | null {
    const { create, now } = parse(z.object({ create: z.boolean(), now: Iso }), input);
    const { seed, created } = this.keys.seed(create, now);
    if (created) this.committed(null);
    return seed;
  }

  /** Crypto-shredding: destroys the seed, so the tenant's ciphertexts can never be read again. */
  destroyKeyMaterial(input: { ctx: Ctx }): void {
    this.keys.destroy(parse(z.object({ ctx: CtxSchema }), input).ctx);
    this.committed(null);
  }

  /** Changes tenant settings; records `identity.settings.updated` with what changed. */
  updateSettings(input: { ctx: Ctx; require_verified_email?: boolean }): void {
    const { ctx, ...settings } = parse(
      z.object({ ctx: CtxSchema, require_verified_email: z.boolean().optional() }),
      input,
    );
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
