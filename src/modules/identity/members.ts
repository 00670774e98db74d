import type { MemberLookup } from "../../kernel/auth/types";
import { directory } from "./directory/contract";
import { Id } from "./directory/contract-shapes";

/**
 * Identity's answer to the kernel's `findMember`: one read of the tenant's directory (`getUser`,
 * the single writer, so a suspension or a deletion shows at once). Each tenant has its own
 * directory, so another tenant's user id is simply not found there. An id no user can have (empty,
 * too long: a client's word a route passes on) is null without a call, rather than the contract's
 * refusal of the argument surfacing as a 500.
 */
export const memberLookup: MemberLookup = {
  async find(env, tenantId, userId) {
    if (!Id.safeParse(tenantId).success || !Id.safeParse(userId).success) return null;
    const user = await directory(env, tenantId).getUser(userId);
    if (!user) return null;
    return {
      id: user.id,
      name: user.name,
      email: user.email,
      email_verified: user.email_verified,
      status: user.status,
      roles: user.roles,
    };
  },
};
