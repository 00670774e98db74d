import type { TenantErasure } from "../../kernel/modules/types";
import { directory } from "./directory/contract";
import { forgetTenantSeed } from "./key-material";

/**
 * How identity forgets a deleted tenant. Its `shred` empties the whole directory,
 * the key seed with it: every value sealed under the tenant's key (webhook secrets,
 * TOTP secrets, the SSO client secret, sealed event fields) is unreadable from then
 * on. Emptying rather than `destroyTenantKeys` on purpose: that records an event
 * whose delivery would write a new audit entry after the audit log was erased, and
 * the directory's users, keys and sessions go anyway. Its `api_key_index` rows are
 * the kernel's to delete (a `tenant_id` column of a declared table).
 */
export const identityErasure: TenantErasure = {
  async shred(tenantId, { env }) {
    await directory(env, tenantId).eraseAll({ tenant_id: tenantId });
    forgetTenantSeed(tenantId);
  },
};
