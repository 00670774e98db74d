/**
 * Endpoints whose actor nothing has reached yet, kept in the registry's key-value store.
 * Creating an endpoint reaches no actor: the first message routed to it (an event, a test
 * message) or config pushed to it (an update, a rotation) does. Deleting one still unreached
 * schedules no purge, which would open the actor for the first time for an endpoint that no
 * longer exists (its constructor migrates the delivery schema: an object with storage and
 * nothing in it, that nothing removes). Marked at creation only: an endpoint created before
 * the mark existed counts as reached and is purged, as before.
 */
const UNREACHED = "unreached:";

/** Marks a new endpoint as not yet reached (in `create`'s transaction). */
export function markUnreached(kv: SyncKvStorage, endpointId: string): void {
  kv.put(`${UNREACHED}${endpointId}`, true);
}

/**
 * Takes the mark off before the actor is called: a call that then fails leaves the endpoint
 * taken for reached (its purge runs, and finds little), never the other way round.
 */
export function reach(kv: SyncKvStorage, endpointId: string): void {
  kv.delete(`${UNREACHED}${endpointId}`);
}

/** Whether the endpoint's actor was reached: only then may it hold anything (a log, a secret's copy). */
export const isReached = (kv: SyncKvStorage, endpointId: string): boolean =>
  kv.get(`${UNREACHED}${endpointId}`) !== true;

/** Forgets a deleted endpoint's mark; whether its actor may hold anything (and needs the purge). */
export const mayHoldAnything = (kv: SyncKvStorage, endpointId: string): boolean =>
  !kv.delete(`${UNREACHED}${endpointId}`);
