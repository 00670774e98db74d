import type { Member, MemberLookup } from "../../kernel/auth/types";
import { directory } from "./directory/contract";
import { Id } from "./directory/contract-shapes";
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
  // The directory keeps no index by role: it pages its users, as webhooks' disabled-endpoint
  // notice does, and stops once it holds `max`.
  async withRole(env, tenantId, roles, max) {
    if (!Id.safeParse(tenantId).success) return [];
    const wanted = new Set(roles);
    const dir = directory(env, tenantId);
    const found: Member[] = [];
    let cursor: string | null = null;
    do {
      const page = await dir.listUsers({ limit: 100, cursor });
      for (const user of page.items) {
        if (found.length < max && user.roles.some((r) => wanted.has(r))) found.push(memberOfView(user));
      }
      cursor = page.next;
    } while (cursor !== null && found.length < max);
    return found;
  },
};
