// A dead letter is stored once per event, not once per queue message: a D1 insert that commits
// but answers an error (or a consumer that dies between the insert and the ack) has the message
// delivered again, and a letter sent back to the events queue on its last delivery comes back
// under a new message id. Keyed by message id, the store kept two letters of one event, and a
// replay of the pending letters sent it twice (docs/events.md, "Dead letters").
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { createQueueHandler } from "../../src/kernel/events/queue";
import { letterKey } from "../../src/kernel/queues/letter-key";
import { testApp } from "../helpers";
import { callerOf, rootKey } from "../identity/helpers";

beforeEach(() => {
  vi.spyOn(console, "warn").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

const clock = manualClock("2026-07-02T09:00:00.000Z");
const run = crypto.randomUUID().slice(0, 8);

/** An event of `tenant` as writers send it (of a type no module here subscribes to). */
const event = (tenant: string, n: number) => ({
  id: `ident-${run}-${n}`,
  type: "gone.thing.happened",
  tenant_id: tenant,
  stream: `${tenant}/thing/t${n}`,
  version: 1,
  occurred_at: "2026-06-01T00:00:00.000Z",
  actor: { kind: "system", id: null },
  request_id: null,
  data: {},
});

/** Delivers `body` to the events dead-letter queue's consumer as message `messageId`; the queue's verdict. */
async function toDeadLetterQueue(body: unknown, messageId: string) {
  const batch = createMessageBatch("plinth-events-dlq", [{ id: messageId, timestamp: new Date(), attempts: 1, body }]);
  const ctx = createExecutionContext();
  await createQueueHandler({ modules: [], needs: KERNEL_NEEDS, clock })(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

/** The tenant's letters as the operator lists them (`pending`: not replayed yet). */
async function lettersOf(tenant: string, pending = false) {
  const res = await callerOf(testApp([]).fetch)(
    `/api/v1/platform/events/dead-letters?tenant_id=${tenant}${pending ? "&pending=true" : ""}`,
    { token: rootKey() },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items as { id: string; message_id: string; event: { id: string }; replayed_at: string | null }[];
}

/** Replays each of `ids` as the operator does, over an EVENTS queue that keeps what it is sent; the events sent. */
async function replayAll(ids: readonly string[]): Promise<string[]> {
  const sent: { type: string; id: string }[] = [];
  const EVENTS = {
    send: async (body: { type: string; id: string }) => void sent.push(body),
    sendBatch: async (messages: { body: { type: string; id: string } }[]) =>
      void sent.push(...messages.map((m) => m.body)),
  } as unknown as Queue;
  const call = callerOf(testApp([], { EVENTS }).fetch);
  for (const id of ids) {
    const res = await call(`/api/v1/platform/events/dead-letters/${id}/replay`, { token: rootKey(), method: "POST" });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  }
  // The audit records of the replays travel with them; only the events count here.
  return sent.filter((e) => e.type === "gone.thing.happened").map((e) => e.id);
}

describe("an event reaching the dead-letter queue more than once", () => {
  it("under two message ids (a send-back) is one letter, and replaying the pending letters sends it once", async () => {
    const tenant = `t-ident-${run}-a`;
    const e = event(tenant, 1);
    expect((await toDeadLetterQueue(e, `ident-${run}-m1`)).explicitAcks).toEqual([`ident-${run}-m1`]);
    expect((await toDeadLetterQueue(e, `ident-${run}-m2`)).explicitAcks).toEqual([`ident-${run}-m2`]);

    const letters = await lettersOf(tenant, true);
    expect(letters.map((l) => l.event.id)).toEqual([e.id]);
    expect(await replayAll(letters.map((l) => l.id))).toEqual([e.id]);
  });

  it("first in a pack, then alone (the pack's unstored events sent back), is one letter", async () => {
    const tenant = `t-ident-${run}-b`;
    const [stored, again] = [event(tenant, 2), event(tenant, 3)];
    await toDeadLetterQueue({ events: [stored, again] }, `ident-${run}-m3`);
    await toDeadLetterQueue(again, `ident-${run}-m4`);
    expect((await lettersOf(tenant)).map((l) => l.event.id).sort()).toEqual([stored.id, again.id].sort());
  });

  it("after its letter was replayed, waits again when it comes back under a new message id, still as one letter", async () => {
    const tenant = `t-ident-${run}-c`;
    const e = event(tenant, 4);
    await toDeadLetterQueue(e, `ident-${run}-m5`);
    const [letter] = await lettersOf(tenant);
    if (!letter) throw new Error("letter not stored");
    expect(await replayAll([letter.id])).toEqual([e.id]);
    expect(await lettersOf(tenant, true)).toEqual([]);

    // The same message delivered again (its ack lost) is the delivery that stored it: still replayed.
    await toDeadLetterQueue(e, `ident-${run}-m5`);
    expect(await lettersOf(tenant, true)).toEqual([]);

    // The replayed event failed again, all its retries: the letter waits again, for another replay.
    await toDeadLetterQueue(e, `ident-${run}-m6`);
    const waiting = await lettersOf(tenant, true);
    expect(waiting.map((l) => [l.id, l.message_id, l.replayed_at])).toEqual([[letter.id, `ident-${run}-m6`, null]]);
    expect(await replayAll([letter.id])).toEqual([e.id]);
  });
});

describe("a letter's key", () => {
  it("is what migration 0016 gave the letters stored before it (SQLite's json_array), so they match later copies", async () => {
    for (const [tenant, id] of [
      ["t_01", "01KWH0WWM0F246B7S47YMJ67W5"],
      [null, "évènement/1"],
      ['t "quoted"', "a\\b"],
    ] as const) {
      const row = await env.DB.prepare("select json_array('event', ?, ?) as k").bind(tenant, id).first<{ k: string }>();
      expect(await letterKey("event", { id, tenant_id: tenant ?? undefined })).toBe(row?.k);
    }
  });
});
