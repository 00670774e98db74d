import type { TenantErasure } from "../../kernel/modules/types";
import { fileStore } from "./contract";

/** R2 lists at most 1,000 keys a page; each page is deleted in one call. */
const R2_PAGE = 1_000;

/**
 * How files forgets a deleted tenant: every R2 object under the tenant's prefix
 * (`<tenant id>/`, a page at a time, whatever the store knows of them: a half-done
 * upload's object too), then its FileStore (metadata, usage, quota). A run that dies
 * half way lists what is left and goes on.
 */
export const filesErasure: TenantErasure = {
  async erase(tenantId, { env }) {
    // The slash ends the prefix: tenant "ab" must never match tenant "abc"'s objects.
    const prefix = `${tenantId}/`;
    for (;;) {
      const page = await env.FILES.list({ prefix, limit: R2_PAGE });
      const keys = page.objects.map((o) => o.key).filter((key) => key.startsWith(prefix));
      if (keys.length > 0) await env.FILES.delete(keys);
      if (!page.truncated) break;
    }
    await fileStore(env, tenantId).eraseAll({ tenant_id: tenantId });
  },
};
