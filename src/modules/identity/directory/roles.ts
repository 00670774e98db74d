import type { DirectoryStore } from "./store";
import { type Ctx, fail, ok, type Result, type RoleView, Strings } from "./types";

/**
 * Tenant roles and role bindings. Every change and its event commit together.
 * Who may make a change is the authority policy's question (../policy.ts),
 * asked by the TenantDirectory before it calls these.
 */
/** Roles a tenant may hold, built-in ones included. */
export const MAX_ROLES = 100;

export class Roles {
  constructor(private readonly store: DirectoryStore) {}

  private get sql() {
    return this.store.sql;
  }

  list(): RoleView[] {
    return this.sql
      .exec<{ name: string; permissions: string; description: string }>(
        "select name, permissions, description from roles order by name",
      )
      .toArray()
      .map((r) => ({
        name: r.name,
        permissions: Strings.parse(JSON.parse(r.permissions)),
        description: r.description,
      }));
  }

  get(name: string): RoleView | null {
    return this.list().find((r) => r.name === name) ?? null;
  }

  create(ctx: Ctx, role: RoleView): Result<RoleView, "exists" | "limit"> {
    if (this.get(role.name)) return fail("exists");
    // The role list is answered whole (GET /admin/roles is not paged), so a tenant's roles are bounded.
    if (this.sql.exec<{ n: number }>("select count(*) as n from roles").one().n >= MAX_ROLES) return fail("limit");
    this.store.tx(() => {
      this.sql.exec(
        "insert into roles (name, permissions, description, builtin) values (?, ?, ?, 0)",
        role.name,
        JSON.stringify(role.permissions),
        role.description,
      );
      this.store.emit(ctx, `role/${role.name}`, { type: "identity.role.created", data: role });
    });
    return ok(role);
  }

  /** Replaces an existing role's permissions and description. */
  replace(ctx: Ctx, role: RoleView): RoleView {
    this.store.tx(() => {
      this.sql.exec(
        "update roles set permissions = ?, description = ? where name = ?",
        JSON.stringify(role.permissions),
        role.description,
        role.name,
      );
      this.store.emit(ctx, `role/${role.name}`, { type: "identity.role.updated", data: role });
    });
    return role;
  }

  /** Users holding the role. */
  holders(name: string): string[] {
    return this.sql
      .exec<{ user_id: string }>("select user_id from role_bindings where role = ?", name)
      .toArray()
      .map((r) => r.user_id);
  }

  /** Deletes an existing role that nobody holds. */
  delete(ctx: Ctx, name: string): Result<null, "in_use"> {
    if (this.holders(name).length > 0) return fail("in_use");
    this.store.tx(() => {
      this.sql.exec("delete from roles where name = ?", name);
      this.store.emit(ctx, `role/${name}`, { type: "identity.role.deleted", data: { name } });
    });
    return ok(null);
  }

  /** Binds an existing role to an existing user; a binding that exists is left as it is. */
  grant(ctx: Ctx, userId: string, role: string): void {
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
  revoke(ctx: Ctx, userId: string, role: string): void {
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
