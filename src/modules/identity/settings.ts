import type { TenantGateway, TenantSettingsLookup } from "../../kernel/auth/types";
import { TtlCache } from "../../kernel/cache/ttl-cache";
import { directory } from "./directory/contract";

/**
 * Tenants' gateway settings (CORS origins, rate-limit overrides) by tenant id,
 * for the request path. Staleness bound: a change takes effect at once in the
 * isolate that made it and within 10 s everywhere.
 */
const gateways = new TtlCache<string, TenantGateway>({ ttlMs: 10_000, maxEntries: 10_000 });

/** Forgets a tenant's cached settings (after a change, in the isolate that made it). */
export function forgetSettings(tenantId: string): void {
  gateways.delete(tenantId);
}

/** The tenant settings lookup the kernel's gateway uses; read from each tenant's directory. */
export const tenantSettingsLookup: TenantSettingsLookup = {
  async get(tenantId, c) {
    const cached = gateways.get(tenantId);
    if (cached) return cached;
    const settings = await directory(c.env, tenantId).settings();
    const gateway = { corsOrigins: settings.cors_origins, rateLimits: settings.rate_limits };
    gateways.set(tenantId, gateway);
    return gateway;
  },
};
