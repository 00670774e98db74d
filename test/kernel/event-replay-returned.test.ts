// A replayed event can fail again at once: a malformed event is stored as a dead letter on its
// first delivery, and an event can come back through the dead-letter queue under the new message
// id the replay's send gave it. Were that before the replay marked the letter replayed, the store
// found the letter neither replayed nor new (a duplicate) and the mark then said it went: the
// second failure was lost, the letter sat replayed, and `pending=true` no longer listed it. The
// mark ends only the replay's own claim (kernel/queues/replay-claim.ts), and a letter claimed by a
// replay takes its event back as pending, as mail letters do (test/notify/mail-replay-returned.test.ts).
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { createQueueHandler } from "../../src/kernel/events/queue";
import { testApp } from "../helpers";
import { callerOf, newTenant, rootKey } from "../identity/helpers";
import { eventLetterOf } from "./dead-letter-fixtures";

beforeEach(() => {
  vi.spyOn(console, "warn").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

/** The audit record a replay sends with its event: applied by the audit log, not returned here. */
const RECORD = "events.dead_letter.replayed";

type Body = { id: string; type: string };

/**
 * A platform whose EVENTS queue hands each replayed event straight to the consumer of `queue`
 * (the events queue, where a malformed event is a dead letter at once, or the dead-letter queue)
 * under a new message id, within the replay's send: back as a dead letter before the replay marks
 * its letter. `returned` lists those message ids.
 */
function platform(queue: "plinth-events" | "plinth-events-dlq") {
  const clock = manualClock("2026-07-04T10:00:00.000Z");
  const returned: string[] = [];
  const failAgain = async (body: Body) => {
    const id = `again-${returned.length + 1}-${body.id}`;
    const batch = createMessageBatch(queue, [{ id, timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    await createQueueHandler({ modules: [], needs: KERNEL_NEEDS, clock })(batch, env, ctx);
    // Acked: stored as a dead letter (or counted one already there), not retried.
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([id]);
    returned.push(id);
  };
  const EVENTS = {
    send: async () => {
      throw new Error("a replay sends its event and its record in one sendBatch");
    },
    sendBatch: async (messages: readonly MessageSendRequest<Body>[]) => {
      for (const m of messages) if (m.body.type !== RECORD) await failAgain(m.body);
    },
  } as unknown as Queue;
  const call = callerOf(testApp([], { EVENTS }, undefined, clock).fetch);
  const replay = (id: string) =>
    call(`/api/v1/platform/events/dead-letters/${id}/replay`, { token: rootKey(), method: "POST" });
  /** The tenant's letters as the operator lists them (`pending`: not replayed yet). */
  const letters = async (tenantId: string, pending = false) => {
    const res = await call(
      `/api/v1/platform/events/dead-letters?tenant_id=${tenantId}${pending ? "&pending=true" : ""}`,
      { token: rootKey() },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.items as { id: string; message_id: string; replayed_at: string | null }[];
  };
  return { returned, replay, letters };
}

describe("a replayed event that fails again before its replay is marked", () => {
  for (const queue of ["plinth-events", "plinth-events-dlq"] as const) {
    it(`leaves its letter pending, as the new failure (back through ${queue})`, async () => {
      const t = await newTenant("returned");
      // The fixture's event has no occurred_at nor actor: malformed, a dead letter on its first delivery.
      const letter = await eventLetterOf(t.id, "returned");
      const p = platform(queue);

      const res = await p.replay(letter.id);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect(p.returned).toEqual([`again-1-${letter.eventId}`]);
      const [back] = p.returned;
      expect((await p.letters(t.id, true)).map((l) => [l.id, l.message_id, l.replayed_at])).toEqual([
        [letter.id, back, null],
      ]);

      // Pending, and under no claim: the operator's next replay sends it (here it fails again, and waits again).
      expect((await p.replay(letter.id)).status).toBe(202);
      expect((await p.letters(t.id, true)).map((l) => [l.id, l.message_id])).toEqual([
        [letter.id, `again-2-${letter.eventId}`],
      ]);
    });
  }

  it("of a letter already replayed, replayed again by id, leaves it pending too", async () => {
    const t = await newTenant("returned");
    const letter = await eventLetterOf(t.id, "returned");
    await env.DB.prepare("update dead_letters set replayed_at = ? where id = ?")
      .bind("2026-07-04T09:00:00.000Z", letter.id)
      .run();
    const p = platform("plinth-events");
    expect(await p.letters(t.id, true)).toEqual([]);

    expect((await p.replay(letter.id)).status).toBe(202);
    expect((await p.letters(t.id, true)).map((l) => [l.id, l.replayed_at])).toEqual([[letter.id, null]]);
  });
});
