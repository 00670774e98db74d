import { tokenRefused } from "../../kernel/auth/challenge";
import { isoNow } from "../../kernel/clock";
import type { PersonalData } from "../../kernel/modules/personal-data";
import { directory } from "./directory/contract";
import { type IdentityPersonalData, IdentityPersonalDataSchema } from "./directory/personal-data";

/**
 * Identity's part of a user's export: their account, sessions, whether two-factor is on, SSO
 * links, the API keys they created and the invitations they sent, read from the tenant's
 * directory in one call (directory/personal-data.ts says what, and what never).
 */
export const identityPersonalData: PersonalData<IdentityPersonalData> = {
  schema: IdentityPersonalDataSchema,
  async export({ tenantId, userId }, { env, clock }) {
    const found = await directory(env, tenantId).personalData({ userId, now: isoNow(clock) });
    // Deleted between authentication and this read: the token names nobody any more.
    if (!found) throw tokenRefused("the user no longer exists");
    return found;
  },
};
