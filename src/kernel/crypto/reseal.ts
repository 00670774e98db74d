import type { Envelope } from "./envelope";
import type { Reseal } from "./key-versions";

/** A stored ciphertext with the envelope field it was sealed for (its associated data). */
export interface FieldValue {
  field: string;
  sealed: string;
}

/**
 * Re-seals under the current master key version each of `values` sealed under
 * an older one (`Envelope.reencrypt`); values already current are left out, so
 * a second run finds nothing to do. The writer that owns the values replaces
 * each only if it still holds `from` (kernel/crypto/key-versions.ts, `Reseal`).
 */
export async function resealStale<V extends FieldValue>(
  envelope: Envelope,
  tenantId: string,
  values: readonly V[],
): Promise<(V & Reseal)[]> {
  const stale = values.filter((v) => envelope.isStale(v.sealed));
  const resealed: (V & Reseal)[] = [];
  // One at a time: each needs the tenant's seed, which the first call caches for the others.
  for (const value of stale) {
    resealed.push({ ...value, from: value.sealed, to: await envelope.reencrypt(tenantId, value.field, value.sealed) });
  }
  return resealed;
}
