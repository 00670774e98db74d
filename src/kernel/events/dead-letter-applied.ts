import type { ModuleDef } from "../modules/types";
import { stringField } from "../queues/message-fields";
import { readModels } from "../read-models";
import { routesOf, wants } from "./consume";
import { processedLedger } from "./ledger";

/**
 * Which dead letters a catch-up replay (or another delivery) has already made moot: those
 * whose event every subscription that wants its type has recorded in the idempotency ledger.
 * Replaying such a letter would change nothing, since the consumer skips what a subscription
 * recorded. Derived at read time from the ledger, never stored, so it is right whatever ran
 * concurrently; a letter does not say which subscription failed, so one that only some
 * subscriptions recorded (a catch-up of one read model, while the audit log or webhooks
 * never got it) still waits, as it must.
 *
 * The ledger forgets ids after 15 days (ledger.ts): an older letter reads as waiting again,
 * and replaying or dismissing it clears it.
 */
export function appliedLetters(modules: readonly ModuleDef[]) {
  const routes = routesOf(modules);
  return async (env: Env, letters: readonly { id: string; event: unknown }[]): Promise<Set<string>> => {
    const events = letters.flatMap((l) => {
      const id = stringField(l.event, "id");
      const type = stringField(l.event, "type");
      return id && type ? [{ letter: l.id, id, type, consumers: routes.filter((r) => wants(r, type)) }] : [];
    });
    if (events.length === 0) return new Set();
    const seen = await processedLedger(readModels(env)).seenMany(
      [...new Set(events.flatMap((e) => e.consumers.map((r) => r.consumer)))],
      events.map((e) => e.id),
    );
    return new Set(
      events.filter((e) => e.consumers.every((r) => seen.has(`${r.consumer}\u0000${e.id}`))).map((e) => e.letter),
    );
  };
}
