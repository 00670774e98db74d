import { storedJson } from "../../../kernel/db/stored-json";
import type { Origin } from "../../../kernel/events/origin";
import type { DirectoryStore } from "./store";
import { fail, ok, type Result, type RoleInput, type RoleView, Strings } from "./types";

/** Roles a tenant may hold, built-in ones included. */
export const MAX_ROLES = 100;

/** The fields a write sets, as events carry them (without the version a view adds). */
const roleInput = (role: RoleInput): RoleInput => ({
  name: role.name,
  permissions: role.permissions,
  description: role.description,
});

/** A role's permissions as a set: their order and repeats mean nothing. */
const permissionSet = (permissions: readonly string[]): string => JSON.stringify([...new Set(permissions)].sort());

/** Whether writing `next` over `current` would change what the role is (its permissions or description). */
export const changesRole = (current: RoleInput, next: RoleInput): boolean =>
  current.description !== next.description || permissionSet(current.permissions) !== permissionSet(next.permissions);

/**
 * The version a role starts at, given the events its name's stream holds (`role/<name>`). A
 * fresh name starts at 1. A name used before (that role deleted since) starts past every version
 * the old role had and past its deletion's: the stream counts each of the old role's changes
 * and its deletion (a built-in role's creation is no event, so the count may be one short of
 * its deletion's version), so an If-Match meant for the old role never matches the new one.
 */
export const firstVersion = (streamEvents: number): number => (streamEvents === 0 ? 1 : streamEvents + 2);

/**
 * Tenant roles and role bindings. Every change and its event commit together.
 * Who may make a change is the authority policy's question (../policy.ts),
 * asked by the TenantDirectory before it calls these.
 */
export class Roles {
  constructor(private readonly store: DirectoryStore) {}

  private get sql() {
    return this.store.sql;
  }

  list(): RoleView[] {
    return this.sql
      .exec<{ name: string; permissions: string; description: string; version: number }>(
        "select name, permissions, description, version from roles order by name",
      )
      .toArray()
      .map((r) => ({
        name: r.name,
        permissions: Strings.parse(storedJson(r.permissions, `role ${r.name} permissions`)),
        description: r.description,
        version: r.version,
      }));
  }

  get(name: string): RoleView | null {
    return this.list().find((r) => r.name === name) ?? null;
  }

  create(ctx: Origin, role: RoleInput): Result<RoleView, "exists" | "limit"> {
    if (this.get(role.name)) return fail("exists");
    // The role list is answered whole (GET /admin/roles is not paged), so a tenant's roles are bounded.
    if (this.sql.exec<{ n: number }>("select count(*) as n from roles").one().n >= MAX_ROLES) return fail("limit");
    const created: RoleView = {
      ...roleInput(role),
      version: firstVersion(this.store.streamVersion(`role/${role.name}`)),
    };
    this.store.tx(() => {
      this.sql.exec(
        "insert into roles (name, permissions, description, builtin, version) values (?, ?, ?, 0, ?)",
        created.name,
        JSON.stringify(created.permissions),
        created.description,
        created.version,
      );
      this.store.emit(ctx, `role/${role.name}`, { type: "identity.role.created", data: roleInput(role) });
    });
    return ok(created);
  }

  /**
   * Replaces an existing role's permissions and description, one version up. Every change of a
   * role goes through here (an admin's PUT, the grants job's sync), so every one bumps it. A write
   * that changes nothing is no change: the role comes back as it is, with no event, so a script
   * re-applying a definition does not make another writer's If-Match fail (as settings do).
   */
  replace(ctx: Origin, role: RoleInput): RoleView {
    const current = this.get(role.name);
    if (current && !changesRole(current, role)) return current;
    return this.store.tx(() => {
      const { version } = this.sql
        .exec<{ version: number }>(
          "update roles set permissions = ?, description = ?, version = version + 1 where name = ? returning version",
          JSON.stringify(role.permissions),
          role.description,
          role.name,
        )
        .one();
      this.store.emit(ctx, `role/${role.name}`, { type: "identity.role.updated", data: roleInput(role) });
      return { ...roleInput(role), version };
    });
  }

  /** Users holding the role. */
  holders(name: string): string[] {
    return this.sql
      .exec<{ user_id: string }>("select user_id from role_bindings where role = ?", name)
      .toArray()
      .map((r) => r.user_id);
  }

  /** Deletes an existing role; the caller has made sure that nothing names it any more (role-uses.ts). */
  delete(ctx: Origin, role: RoleView): { version: number } {
    this.store.tx(() => {
      this.sql.exec("delete from roles where name = ?", role.name);
      this.store.emit(ctx, `role/${role.name}`, { type: "identity.role.deleted", data: { name: role.name } });
    });
    // The deletion is a change too: its version is the DELETE's ETag, as a blog post's is.
    return { version: role.version + 1 };
  }

  /** Binds an existing role to an existing user; a binding that exists is left as it is. */
  grant(ctx: Origin, userId: string, role: string): void {
    this.store.tx(() => {
      const added = this.sql.exec(
        "insert into role_bindings (user_id, role) values (?, ?) on conflict do nothing",
        userId,
        role,
      ).rowsWritten;
      if (added > 0)
        this.store.emit(
          ctx,
          `user/${userId}`,
          { type: "identity.role.granted", data: { user_id: userId, role } },
          { role },
        );
    });
  }

  /** Removes a binding if it exists. */
  revoke(ctx: Origin, userId: string, role: string): void {
    this.store.tx(() => {
      const removed = this.sql.exec(
        "delete from role_bindings where user_id = ? and role = ?",
        userId,
        role,
      ).rowsWritten;
      if (removed > 0)
        this.store.emit(
          ctx,
          `user/${userId}`,
          { type: "identity.role.revoked", data: { user_id: userId, role } },
          { role },
        );
    });
  }
}
