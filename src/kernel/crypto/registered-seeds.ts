import type { TenantLookup } from "../auth/types";
import { TtlCache } from "../cache/ttl-cache";
import type { TenantSeeds } from "./envelope";
import { UnregisteredTenant } from "./envelope-errors";

/**
 * Tenants the registry answered live, by id, so that code opening values over and over (an
 * endpoint actor signing each delivery) asks D1 once per 30 s, not once per value. Per
 * isolate, by design; its staleness is the seed cache's (identity's key-material.ts): a
 * tenant deleted elsewhere may be taken for live here for 30 s, as its seed may be used, and
 * the erasure shreds its keys no sooner than a minute after the delete.
 */
const live = new TtlCache<string, true>({ ttlMs: 30_000, maxEntries: 10_000 });

/**
 * `seeds` asked only for tenants the registry holds live (active or suspended), for code with
 * no request, which may hold any id. For an id the registry never held it throws
 * `UnregisteredTenant` before the seed source is reached (no directory object is opened for
 * the id); for a deleted tenant, being erased or erased, it answers null, which the envelope
 * reports as `KeyMaterialDestroyed`: what an erased tenant's values say anyway, and what a
 * deleted one's will say once its erasure's first step shreds them. The erasure itself does
 * not go through here (each module's `erasure.shred` reaches its own store). Without a
 * registry there is nothing to ask: `seeds` alone answers.
 */
export function registeredSeeds(env: Env, seeds: TenantSeeds, registry: TenantLookup | undefined): TenantSeeds {
  if (!registry) return seeds;
  return {
    async seed(tenantId, create) {
      if (live.get(tenantId) === undefined) {
        if ((await registry.find(env, tenantId)) === null) {
          if ((await registry.gone(env, [tenantId])).has(tenantId)) return null;
          throw new UnregisteredTenant(tenantId);
        }
        live.set(tenantId, true);
      }
      return seeds.seed(tenantId, create);
    },
  };
}
