import { newId } from "../../../kernel/crypto";
import { storedJson } from "../../../kernel/db/stored-json";
import { isErased, TenantErased } from "../../../kernel/durable/tombstone";
import type { AuditFacts } from "../../../kernel/events/envelope";
import type { Origin } from "../../../kernel/events/origin";
import { METRICS } from "../../../kernel/metrics/catalog";
import { isolateRecorder } from "../../../kernel/metrics/recorder";
import { appendOutbox } from "../../../kernel/outbox";
import { traceCarrier } from "../../../kernel/telemetry";
import type { IdentityEvent } from "../events";
import { DEFAULT_ROLES } from "./schema";
import { fail, ok, type Result, Strings, type UserPrincipal, type UserView } from "./types";
import { type UserRow, userView } from "./user-row";

const withTrace = (trace: ReturnType<typeof traceCarrier>) => (trace ? { trace } : {});

/** A user to store: its password hash (or single sign-on's marker), roles, and whether its email is verified. */
export interface NewUser {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  roles: readonly string[];
  emailVerified?: boolean;
}

/**
 * The tenant directory's state operations over its SQLite storage. Every
 * mutation and the events it emits commit in one `transactionSync`.
 */
export class DirectoryStore {
  constructor(
    private readonly storage: DurableObjectStorage,
    readonly sql: SqlStorage = storage.sql,
  ) {}

  /** Whether the tenant's erasure emptied this directory (eraseAll leaves the tombstone). */
  erased(): boolean {
    return isErased(this.storage.kv);
  }

  private depth = 0;
  /** Events emitted in the transaction under way, counted once it commits. */
  private emitted = 0;
  /** Events committed since the last {@link takeUnsent}: what the outbox relay is told. */
  private unsent = 0;

  /** The events committed since the last call, for the relay's `afterCommit`; counting starts again at 0. */
  takeUnsent(): number {
    const unsent = this.unsent;
    this.unsent = 0;
    return unsent;
  }

  /**
   * Runs `fn` in one SQLite transaction: its state changes and outbox rows
   * commit together or not at all. Re-entrant: an inner call joins the outer
   * transaction, so operations compose into one commit.
   * Refused once the tenant's erasure emptied the directory (its tombstone): every write
   * passes here, so a request or job that reached it late cannot make it hold rows again.
   */
  tx<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    if (this.erased()) throw new TenantErased("TenantDirectory");
    this.depth++;
    this.emitted = 0;
    try {
      const result = this.storage.transactionSync(fn);
      // Committed: the events it emitted wait in the outbox (plinth_outbox_appended_total minus _sent_total).
      if (this.emitted > 0) isolateRecorder.inc(METRICS.outboxAppended, ["TenantDirectory"], this.emitted);
      this.unsent += this.emitted;
      return result;
    } finally {
      this.depth--;
      this.emitted = 0;
    }
  }

  tenantId(): string | null {
    return this.sql.exec<{ id: string }>("select id from tenant").toArray()[0]?.id ?? null;
  }

  /** How many events stream `<tenant>/<stream>` holds ({@link emit} numbers them), 0 for none. */
  streamVersion(stream: string): number {
    const key = `${this.tenantId() ?? "unknown"}/${stream}`;
    return (
      this.sql.exec<{ version: number }>("select version from stream_versions where stream = ?", key).toArray()[0]
        ?.version ?? 0
    );
  }

  /**
   * Appends an event for this tenant to stream `<tenant>/<stream>`, numbered
   * within that stream (1, 2, 3 …, so a projection over it sees no false
   * gaps); call inside `tx`. `audit` is what the audit log records of it
   * beyond actor and target (short, no personal data).
   */
  emit(ctx: Origin, stream: string, event: IdentityEvent, audit?: AuditFacts): void {
    const tenantId = this.tenantId() ?? "unknown";
    const key = `${tenantId}/${stream}`;
    const version = this.sql
      .exec<{ version: number }>(
        `insert into stream_versions (stream, version) values (?, 1)
           on conflict(stream) do update set version = version + 1 returning version`,
        key,
      )
      .one().version;
    // Outside a transaction (not how it is called) the row commits as written.
    if (this.depth > 0) this.emitted++;
    else this.unsent++;
    appendOutbox(this.sql, {
      id: newId(Date.parse(ctx.now)),
      type: event.type,
      tenant_id: tenantId,
      stream: key,
      version,
      occurred_at: ctx.now,
      actor: ctx.actor,
      data: event.data,
      request_id: ctx.requestId,
      ip_hash: ctx.ipHash ?? null,
      ...(audit && Object.keys(audit).length > 0 ? { audit } : {}),
      // The RPC call's trace (tracing on): the consumers of identity events join their request's trace.
      ...withTrace(traceCarrier()),
    });
  }

  /**
   * Creates the tenant record and its default roles, each with the permissions the registered
   * modules grant it (`grants`, from the registry); a second call is a no-op.
   */
  init(
    ctx: Origin,
    tenant: { id: string; slug: string; name: string; plan: string },
    grants: Readonly<Record<string, readonly string[]>> = {},
  ): boolean {
    if (this.tenantId() !== null) return false;
    this.tx(() => {
      this.sql.exec(
        "insert into tenant (id, slug, name, plan, created_at) values (?, ?, ?, ?, ?)",
        tenant.id,
        tenant.slug,
        tenant.name,
        tenant.plan,
        ctx.now,
      );
      for (const role of DEFAULT_ROLES) {
        this.sql.exec(
          "insert into roles (name, permissions, description, builtin) values (?, ?, ?, 1)",
          role.name,
          JSON.stringify([...new Set([...role.permissions, ...(grants[role.name] ?? [])])]),
          role.description,
        );
      }
      this.emit(ctx, `tenant/${tenant.id}`, { type: "tenants.tenant.created", data: tenant });
    });
    return true;
  }

  setting(key: string): string | null {
    return (
      this.sql.exec<{ value: string }>("select value from settings where key = ?", key).toArray()[0]?.value ?? null
    );
  }

  setSetting(key: string, value: string): void {
    this.sql.exec("insert or replace into settings (key, value) values (?, ?)", key, value);
  }

  rolesOf(userId: string): string[] {
    return this.sql
      .exec<{ role: string }>("select role from role_bindings where user_id = ? order by role", userId)
      .toArray()
      .map((r) => r.role);
  }

  /** Permission patterns of the named roles. */
  grantsOf(roles: readonly string[]): string[] {
    const out = new Set<string>();
    for (const role of roles) {
      const row = this.sql
        .exec<{ permissions: string }>("select permissions from roles where name = ?", role)
        .toArray()[0];
      for (const p of row ? Strings.parse(storedJson(row.permissions, `role ${role} permissions`)) : []) out.add(p);
    }
    return [...out].sort();
  }

  private view(row: UserRow): UserView {
    return userView(row, this.rolesOf(row.id));
  }

  private row(where: "id" | "email", value: string): UserRow | undefined {
    return this.sql.exec<UserRow>(`select * from users where ${where} = ?`, value).toArray()[0];
  }

  user(id: string): UserView | null {
    const row = this.row("id", id);
    return row ? this.view(row) : null;
  }

  /** A user this call has just written, read back: `one()` throws should it be missing. */
  private written(id: string): UserView {
    return this.view(this.sql.exec<UserRow>("select * from users where id = ?", id).one());
  }

  /**
   * What a user's credentials may act as, or null: none for a user gone, or suspended (an access
   * token, a refresh, a session started by any sign-in is then refused: docs/identity.md).
   */
  principal(userId: string): UserPrincipal | null {
    const row = this.row("id", userId);
    if (!row || row.suspended_at !== null) return null;
    const roles = this.rolesOf(userId);
    const families = this.sql
      .exec<{ id: string }>("select id from token_families where user_id = ? and revoked_at is null", userId)
      .toArray()
      .map((f) => f.id);
    return { id: userId, roles, grants: this.grantsOf(roles), families };
  }

  /** For login: the stored hash of an email's user, or null. */
  credentials(
    email: string,
  ): { userId: string; passwordHash: string; emailVerified: boolean; suspended: boolean } | null {
    const row = this.row("email", email);
    if (!row) return null;
    const suspended = row.suspended_at !== null;
    return { userId: row.id, passwordHash: row.password_hash, emailVerified: row.email_verified === 1, suspended };
  }

  /** Whether user `id` is suspended (false for no such user). */
  suspended(id: string): boolean {
    return (this.row("id", id)?.suspended_at ?? null) !== null;
  }

  register(ctx: Origin, input: NewUser): Result<UserView, "email_taken"> {
    if (this.row("email", input.email)) return fail("email_taken");
    this.tx(() => {
      this.insertUser(ctx, input);
      // Email addresses stay out of event payloads: events are immutable, PII must be erasable.
      this.emit(ctx, `user/${input.id}`, {
        type: "identity.user.registered",
        data: { user_id: input.id, roles: [...input.roles] },
      });
    });
    return ok(this.written(input.id));
  }

  /**
   * Stores a user with its role bindings, and no event: {@link register} and
   * single sign-on's provisioning each record their own. Inside a transaction.
   */
  insertUser(ctx: Origin, input: NewUser): void {
    this.sql.exec(
      "insert into users (id, email, name, password_hash, email_verified, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)",
      input.id,
      input.email,
      input.name,
      input.passwordHash,
      input.emailVerified ? 1 : 0,
      ctx.now,
      ctx.now,
    );
    for (const role of input.roles) {
      this.sql.exec("insert into role_bindings (user_id, role) values (?, ?)", input.id, role);
    }
  }

  /**
   * Marks a user's email verified (a spent verification token, an accepted
   * invitation, a provider's assertion) and records `identity.user.email_verified`
   * when it changed. Inside a transaction.
   */
  markEmailVerified(ctx: Origin, userId: string): void {
    const changed = this.sql.exec(
      "update users set email_verified = 1, updated_at = ? where id = ? and email_verified = 0",
      ctx.now,
      userId,
    ).rowsWritten;
    if (changed > 0)
      this.emit(ctx, `user/${userId}`, { type: "identity.user.email_verified", data: { user_id: userId } });
  }

  passwordHashOf(userId: string): string | null {
    return this.row("id", userId)?.password_hash ?? null;
  }

  setPasswordHash(userId: string, passwordHash: string, now: string): void {
    this.sql.exec("update users set password_hash = ?, updated_at = ? where id = ?", passwordHash, now, userId);
  }

  /**
   * Replaces user `userId`'s password hash by `marker` (not a PHC string: no password verifies
   * against it) when it holds a real one: an account without a password (single sign-on's marker,
   * or one voided already) keeps its own. Whether a password was voided. Inside a transaction.
   */
  voidPassword(userId: string, marker: string, now: string): boolean {
    // Every marker starts with "!", which no PHC string does.
    const voided = this.sql
      .exec(
        "update users set password_hash = ?, updated_at = ? where id = ? and substr(password_hash, 1, 1) <> '!' returning id",
        marker,
        now,
        userId,
      )
      .toArray();
    return voided.length > 0;
  }

  listUsers(limit: number, after: string | null): { items: UserView[]; next: string | null } {
    const rows = this.sql
      .exec<UserRow>("select * from users where id > ? order by id limit ?", after ?? "", limit + 1)
      .toArray();
    const page = rows.slice(0, limit);
    return { items: page.map((r) => this.view(r)), next: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
  }

  updateUser(ctx: Origin, id: string, patch: { name?: string }): Result<UserView, "not_found"> {
    const row = this.row("id", id);
    if (!row) return fail("not_found");
    // Only what differs is a change: an empty patch, or the name the user has, answers the user
    // as it is with no write and no event (a retried PATCH must not log a second rename), as a
    // blog post's change to nothing does.
    const fields = patch.name !== undefined && patch.name !== row.name ? ["name"] : [];
    if (fields.length === 0) return ok(this.view(row));
    this.tx(() => {
      this.sql.exec("update users set name = ?, updated_at = ? where id = ?", patch.name, ctx.now, id);
      // The audit entry names the fields changed, never their values (a name is personal data).
      this.emit(ctx, `user/${id}`, { type: "identity.user.updated", data: { user_id: id, fields } }, { fields });
    });
    return ok(this.written(id));
  }

  /**
   * Deletes a user, their role bindings, token families and one-time tokens (reset, verification,
   * two-factor challenges); their two-factor secret, recovery codes and single sign-on links go
   * by the schema's `on delete cascade`. The invitations that name them go in the same
   * transaction, from the caller (Invitations.forgetInvitee).
   */
  deleteUser(ctx: Origin, id: string): Result<null, "not_found"> {
    if (!this.row("id", id)) return fail("not_found");
    this.tx(() => {
      this.sql.exec(
        "delete from refresh_tokens where family_id in (select id from token_families where user_id = ?)",
        id,
      );
      this.sql.exec("delete from token_families where user_id = ?", id);
      this.sql.exec("delete from one_time_tokens where user_id = ?", id);
      this.sql.exec("delete from role_bindings where user_id = ?", id);
      this.sql.exec("delete from users where id = ?", id);
      this.emit(ctx, `user/${id}`, { type: "identity.user.deleted", data: { user_id: id } });
    });
    return ok(null);
  }
}
