/**
 * What a per-tenant object (an actor, the audit log) keeps once its tenant's
 * erasure emptied it: one key, no data,
 * so that a caller arriving late (a queue batch that checked the tenant before
 * its deletion, a timer already running, a peer actor pushing config) cannot
 * make the object hold the erased tenant's data again. The object is named by
 * the tenant, so the flag says nothing the name does not.
 */

const ERASED_KEY = "actor.erased";

/** Marks the (just wiped) storage as erased. */
export function markErased(kv: SyncKvStorage): void {
  kv.put(ERASED_KEY, true);
}

/** Whether an erasure emptied this object. */
export function isErased(kv: SyncKvStorage): boolean {
  return kv.get<boolean>(ERASED_KEY) === true;
}

/** Thrown by an erased object asked to take its tenant's data again. */
export class TenantErased extends Error {
  override name = "TenantErased";
  constructor(object: string) {
    super(`${object} refused: its tenant was erased`);
  }
}

/**
 * Whether `error` is an erased object's refusal, as thrown in the object or as it arrives
 * over RPC: workerd keeps a custom error's message but not its class, so the caller
 * sees a plain `Error` whose message starts with the name.
 */
export function isTenantErased(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === "TenantErased" || error.message.startsWith("TenantErased: ");
}
