import { TtlCache } from "../../kernel/cache/ttl-cache";
import { type Clock, isoNow } from "../../kernel/clock";
import { base64UrlDecode } from "../../kernel/crypto";
import { wasmAead } from "../../kernel/crypto/aead";
import { Envelope, parseMasterKeys, type TenantSeeds } from "../../kernel/crypto/envelope";
import type { ModuleRuntime } from "../../kernel/modules/types";
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

/**
 * The envelope that seals tenant secrets: master keys from the ENCRYPTION_KEYS
 * secret (`c.get("config").encryptionKeys`), seeds from each tenant's directory,
 * XChaCha20-Poly1305 from the WASM core. Throws when the secret is malformed
 * (the message never contains key material).
 *
 * @example
 * const sealed = await tenantEnvelope(c.env, keys, c.get("clock")).encrypt(tenant.id, "webhook.secret", secret);
 */
export function tenantEnvelope(env: Env, encryptionKeys: string, clock: Clock): Envelope {
  return new Envelope(wasmAead, parseMasterKeys(encryptionKeys), directorySeeds(env, clock));
}

/** The tenant envelope outside a request (a job, a platform operation), from the runtime's config. */
export function runtimeEnvelope(runtime: Pick<ModuleRuntime, "env" | "config" | "clock">): Envelope {
  const keys = runtime.config.encryptionKeys;
  if (!keys) throw new Error("ENCRYPTION_KEYS is not configured: sealed values cannot be re-sealed");
  return tenantEnvelope(runtime.env, keys, runtime.clock);
}
