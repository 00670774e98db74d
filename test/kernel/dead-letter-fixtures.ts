import { env } from "cloudflare:workers";
import { systemClock } from "../../src/kernel/clock";
import { deadLetterStore } from "../../src/kernel/events/dead-letters";

/**
 * Stores an event dead letter of `tenantId`'s as the dead-letter consumer does (an event of a
 * type no module publishes); its id and its event's. `tag` names the test in the event id.
 */
export async function eventLetterOf(tenantId: string, tag: string): Promise<{ id: string; eventId: string }> {
  const eventId = `ev-${tag}-${crypto.randomUUID()}`;
  const event = { id: eventId, type: "gone.thing.happened", tenant_id: tenantId, stream: "s", version: 1, data: {} };
  const store = deadLetterStore(env.DB);
  await store.store(
    "plinth-events-dlq",
    { id: `m-${eventId}`, body: event, attempts: 1 },
    "no subscriber",
    systemClock.now(),
  );
  const id = (await store.listAll(100, { tenantId })).find((l) => (l.event as { id: string }).id === eventId)?.id;
  if (!id) throw new Error("letter not stored");
  return { id, eventId };
}
