import type { TenantErasure } from "../../kernel/modules/types";
import { endpointActor, registry } from "./contract";

/**
 * How webhooks forgets a deleted tenant: each endpoint's delivery actor (its config,
 * its copy of the secret, deliveries still pending: none goes out after this), then the
 * registry that lists them. The registry goes last, so a run that dies half way lists
 * the same endpoints again.
 */
export const webhooksErasure: TenantErasure = {
  async erase(tenantId, { env }) {
    const tenantRegistry = registry(env, tenantId);
    let cursor: string | null = null;
    do {
      const page = await tenantRegistry.list({ limit: 100, cursor });
      for (const endpoint of page.items) {
        await endpointActor(env, tenantId, endpoint.id).eraseAll({ tenant_id: tenantId });
      }
      cursor = page.next;
    } while (cursor !== null);
    await tenantRegistry.eraseAll({ tenant_id: tenantId });
  },
};
