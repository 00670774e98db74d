import { storedJson } from "../../../kernel/db/stored-json";
import type { DirectoryStore } from "./store";
import { Strings, type UserView } from "./types";
import { type UserRow, userView } from "./user-row";

/** The most users one read answers: the kernel's membersWithRole asks for at most 100. */
export const ROLE_HOLDERS_MAX = 100;

/**
 * The users holding any of the roles, found from the roles' bindings (index `role_bindings_role`,
 * schema.ts), not by walking every user. SQLite keeps the holders' ids in an index it builds for
 * the `in`, so it looks them up in id order and stops at the limit without sorting; each user's
 * own roles come in the same statement. The roles are one JSON argument, whatever their number.
 */
const HOLDERS = `
  select u.*, (select json_group_array(b.role) from role_bindings b where b.user_id = u.id) as roles_json
    from users u
   where u.id in (select h.user_id from role_bindings h where h.role in (select value from json_each(?)))
   order by u.id
   limit ?`;

/**
 * Who holds a role, for the kernel's `membersWithRole` (identity/members.ts): a deleted user is
 * gone with their row and bindings, a suspended one is answered marked, as `getUser` answers them.
 */
export class RoleHolders {
  constructor(private readonly store: DirectoryStore) {}

  /** Up to `limit` users holding any of `roles`, in id order, each with all of their roles (sorted). */
  of(roles: readonly string[], limit: number): UserView[] {
    return this.store.sql
      .exec<UserRow & { roles_json: string }>(HOLDERS, JSON.stringify(roles), limit)
      .toArray()
      .map((row) => userView(row, Strings.parse(storedJson(row.roles_json, `user ${row.id} roles`)).sort()));
  }
}
