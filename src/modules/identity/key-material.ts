import { TtlCache } from "../../kernel/cache/ttl-cache";
import { type Clock, isoNow } from "../../kernel/clock";
import { base64UrlDecode } from "../../kernel/crypto";
import type { TenantSeeds } from "../../kernel/crypto/envelope";
import { directory } from "./directory/contract";

/**
 * Tenant seeds by tenant id. Staleness bound: a seed destroyed elsewhere can
 * still be used by a warm isolate for at most 30 s; the destroying isolate
 * forgets it at once.
 */
const seeds = new TtlCache<string, string>({ ttlMs: 30_000, maxEntries: 10_000 });

/** Envelope-encryption seeds held by each tenant's directory. */
export const directorySeeds = (env: Env, clock: Clock): TenantSeeds => ({
  async seed(tenantId, create) {
    let seed = seeds.get(tenantId) ?? null;
    if (seed === null) {
      seed = await directory(env, tenantId).keySeed({ create, now: isoNow(clock) });
      if (seed !== null) seeds.set(tenantId, seed);
    }
    return seed === null ? null : base64UrlDecode(seed);
  },
});

/** Crypto-shreds a tenant: its key material is destroyed and forgotten here at once. */
export async function destroyTenantKeys(
  env: Env,
  tenantId: string,
  ctx: Parameters<ReturnType<typeof directory>["destroyKeyMaterial"]>[0]["ctx"],
) {
  await directory(env, tenantId).destroyKeyMaterial({ ctx });
  seeds.delete(tenantId);
}

/** Forgets a tenant's seed in this isolate (its directory was emptied: offboarding). */
export function forgetTenantSeed(tenantId: string): void {
  seeds.delete(tenantId);
}
