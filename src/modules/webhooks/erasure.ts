import type { TenantErasure } from "../../kernel/modules/types";
import { endpointActor, registry } from "./contract";

/**
 * How webhooks forgets a deleted tenant: the registry is closed first (no new endpoint,
 * nothing routed or pushed to an actor after), then each endpoint's delivery actor (its
 * config, its copy of the secret, deliveries still pending: none goes out after this),
 * then the registry that lists them. The registry goes last, so a run that dies half way
 * lists the same endpoints again. An erased actor keeps a tombstone and ignores a late
 * enqueue or config (kernel/actors/tombstone.ts).
 */
export const webhooksErasure: TenantErasure = {
  async erase(tenantId, { env }) {
    const tenantRegistry = registry(env, tenantId);
    // First, and again on a rerun: from here the registry refuses new endpoints and feeds no actor,
    // so the list below is complete and nothing refills an actor once erased.
    const { removed } = await tenantRegistry.beginErasure({ tenant_id: tenantId });
    // Endpoints removed whose actor was not purged yet: the registry lists them no more.
    for (const id of removed) await endpointActor(env, tenantId, id).eraseAll({ tenant_id: tenantId });
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
