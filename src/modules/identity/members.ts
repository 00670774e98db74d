import type { Member, MemberLookup } from "../../kernel/auth/types";
import { directory } from "./directory/contract";
import { Id, RoleName } from "./directory/contract-shapes";
import { MAX_ROLES } from "./directory/roles";
import type { UserView } from "./directory/types";

const memberOfView = (user: UserView): Member => ({
  id: user.id,
  name: user.name,
  email: user.email,
  email_verified: user.email_verified,
  status: user.status,
  roles: user.roles,
});

/**
 * Identity's answer to the kernel's `findMember` and `membersWithRole`: reads of the tenant's
 * directory (the single writer, so a suspension or a deletion shows at once). Each tenant has
 * its own directory, so another tenant's user id is simply not found there. An id no user can
 * have (empty, too long: a client's word a route passes on) is null without a call, rather than
 * the contract's refusal of the argument surfacing as a 500.
 */
export const memberLookup: MemberLookup = {
  async find(env, tenantId, userId) {
    if (!Id.safeParse(tenantId).success || !Id.safeParse(userId).success) return null;
    const user = await directory(env, tenantId).getUser(userId);
    return user ? memberOfView(user) : null;
  },
  // One call, answered from the roles' bindings (directory/role-holders.ts), whatever the number of
  // users. A name no role can have (RoleName) matches nobody: it is left out rather than refused.
  // Past MAX_ROLES names (more than a tenant may have roles, so some name none), one call per
  // MAX_ROLES, merged back into id order.
  async withRole(env, tenantId, roles, max) {
    const names = [...new Set(roles)].filter((r) => RoleName.safeParse(r).success);
    if (!Id.safeParse(tenantId).success || names.length === 0) return [];
    const dir = directory(env, tenantId);
    const found = new Map<string, Member>();
    for (let at = 0; at < names.length; at += MAX_ROLES) {
      for (const user of await dir.usersWithRole({ roles: names.slice(at, at + MAX_ROLES), limit: max }))
        found.set(user.id, memberOfView(user));
    }
    return [...found.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, max);
  },
};
