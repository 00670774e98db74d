import { isoNow } from "../../kernel/clock";
import { type PersonalData, SubjectGone } from "../../kernel/modules/personal-data";
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
    // Deleted since the request was admitted (its token authenticated, or an administrator's export allowed).
    if (!found) throw new SubjectGone();
    return found;
  },
};
