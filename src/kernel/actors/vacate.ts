import { isErased } from "../durable/tombstone";

/**
 * Emptying an actor's storage for good (Actor.vacate): what the actor of a thing deleted ends
 * with, as if it had never been opened.
 */

/**
 * Whether an actor's storage owes nothing: no timer pending but the outbox relay's wake-up
 * (`relayTimer`), and no event in the outbox still to send. A timer whose handler is running
 * is still stored (it is deleted when the handler ends), so an object in the middle of one owes it.
 */
export function owesNothing(sql: SqlStorage, relayTimer: string): boolean {
  const timers = sql
    .exec<{ n: number }>("select count(*) as n from actor_timers where key is not ?", relayTimer)
    .one().n;
  const unsent = sql.exec<{ n: number }>("select count(*) as n from outbox").one().n;
  return timers === 0 && unsent === 0;
}

/**
 * Sends what the outbox holds (`drain`), then, unless an alarm handler is running (`alarm.busy()`: a
 * timer of it, a delivery say, may be awaiting with its row already cancelled, and would write its
 * outcome back) or the storage owes anything ({@link owesNothing}), deletes its alarm and everything
 * in it: "vacated". "owing": nothing changed, ask again later. "erased": the tenant's erasure landed
 * while the send awaited, and its tombstone must stay (emptied, the object would take a late
 * enqueue again); it owes nothing either.
 */
export async function vacateStorage(
  storage: DurableObjectStorage,
  relayTimer: string,
  alarm: { busy(): boolean },
  drain: () => Promise<unknown>,
): Promise<"vacated" | "owing" | "erased"> {
  await drain();
  if (isErased(storage.kv)) return "erased";
  if (alarm.busy() || !owesNothing(storage.sql, relayTimer)) return "owing";
  await storage.deleteAlarm();
  await storage.deleteAll();
  return "vacated";
}
