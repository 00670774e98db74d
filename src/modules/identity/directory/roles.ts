import type { DirectoryStore } from "./store";
import { type Ctx, fail, ok, type Result } from "./types";

/** A role as the contract shows it. */
export interface RoleView {
  name: string;
  permissions: string[];
  description: string;
}

export const OWNER = "owner";

/** Tenant roles and role bindings. Every change and its event commit together. */
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
      .map((r) => ({ name: r.name, permissions: JSON.parse(r.permissions) as string[], description: r.description }));
  }

  get(name: string): RoleView | null {
    return this.list().find((r) => r.name === name) ?? null;
  }

  create(ctx: Ctx, role: RoleView): Result<RoleView, "exists"> {
    if (this.get(role.name)) return fail("exists");
    this.store.tx(() => {
      this.sql.exec(
        "insert into roles (name, permissions, description, builtin) values (?, ?, ?, 0)",
        role.name,
        JSON.stringify(role.permissions),
        role.description,
      );
      this.store.emit(ctx, "identity.role.created", `role/${role.name}`, { ...role });
    });
    return ok(role);
  }

  replace(ctx: Ctx, role: RoleView): Result<RoleView, "not_found" | "owner_fixed"> {
    if (!this.get(role.name)) return fail("not_found");
    if (role.name === OWNER) return fail("owner_fixed");
    this.store.tx(() => {
      this.sql.exec(
        "update roles set permissions = ?, description = ? where name = ?",
        JSON.stringify(role.permissions),
        role.description,
        role.name,
      );
      this.store.emit(ctx, "identity.role.updated", `role/${role.name}`, { ...role });
    });
    return ok(role);
  }

  /** Users holding the role. */
  holders(name: string): string[] {
    return this.sql
      .exec<{ user_id: string }>("select user_id from role_bindings where role = ?", name)
      .toArray()
      .map((r) => r.user_id);
  }

  delete(ctx: Ctx, name: string): Result<null, "not_found" | "owner_fixed" | "in_use"> {
    if (!this.get(name)) return fail("not_found");
    if (name === OWNER) return fail("owner_fixed");
    if (this.holders(name).length > 0) return fail("in_use");
    this.store.tx(() => {
      this.sql.exec("delete from roles where name = ?", name);
      this.store.emit(ctx, "identity.role.deleted", `role/${name}`, { name });
    });
    return ok(null);
  }

  grant(ctx: Ctx, userId: string, role: string): Result<null, "no_user" | "no_role"> {
    if (!this.store.user(userId)) return fail("no_user");
    if (!this.get(role)) return fail("no_role");
    this.store.tx(() => {
      const added = this.sql.exec(
        "insert into role_bindings (user_id, role) values (?, ?) on conflict do nothing",
        userId,
        role,
      ).rowsWritten;
      if (added > 0) this.store.emit(ctx, "identity.role.granted", `user/${userId}`, { user_id: userId, role });
    });
    return ok(null);
  }

  /** Revokes a binding; the last owner binding of the tenant cannot be removed. */
  revoke(ctx: Ctx, userId: string, role: string): Result<null, "no_user" | "no_role" | "last_owner"> {
    if (!this.store.user(userId)) return fail("no_user");
    if (!this.get(role)) return fail("no_role");
    if (role === OWNER) {
      const owners = this.holders(OWNER);
      if (owners.length === 1 && owners[0] === userId) return fail("last_owner");
    }
    this.store.tx(() => {
      const removed = this.sql.exec(
        "delete from role_bindings where user_id = ? and role = ?",
        userId,
        role,
      ).rowsWritten;
      if (removed > 0) this.store.emit(ctx, "identity.role.revoked", `user/${userId}`, { user_id: userId, role });
    });
    return ok(null);
  }
}
