import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantDirectory } from "../../durable-objects/tenant-directory";
import { manualClock } from "../../src/kernel/clock";
import { appendOutbox } from "../../src/kernel/outbox";
import type { OutboxQueue } from "../../src/kernel/outbox/drain";
import { OutboxRelay } from "../../src/kernel/outbox/relay";
import { seededEvent } from "./outbox-events";

/**
 * workerd loses an alarm set, while an alarm handler runs, to the very time of the running alarm
 * (docs/actors.md, "The alarm a handler sets"). The relay's drain from an object's alarm() that
 * leaves rows sets the alarm "at once": with the clock standing at the alarm's time, that was
 * the running alarm's own time, and the rows left waited for the object's next commit. So the
 * relay never sets, while its onAlarm runs, a time at or before that handler's start.
 */

// In the future: an alarm set in the past fires at once on its own, before the test reads it.
const T0 = Date.parse("2030-01-01T00:00:00Z");

const event = (i: number) => seededEvent(`evt-rearm-${String(i).padStart(3, "0")}`, i);

/** A queue that accepts every batch and counts the events. */
function countingQueue() {
  const queue: OutboxQueue & { sent: number } = {
    sent: 0,
    async sendBatch(messages: Iterable<MessageSendRequest<unknown>>): Promise<QueueSendBatchResponse> {
      queue.sent += [...messages].length;
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    },
  };
  return queue;
}

describe("the alarm the relay sets from an alarm handler", () => {
  it("is after the handler's start when a drain leaves rows; outside a handler, now", async () => {
    // A TenantDirectory no RPC touched: its outbox and alarm are only what this test makes.
    const stub = env.TENANT_DIRECTORY.getByName(`outbox-rearm-${crypto.randomUUID()}`);
    await runInDurableObject(stub, async (_: TenantDirectory, state) => {
      state.storage.transactionSync(() => {
        for (let i = 0; i < 25; i++) appendOutbox(state.storage.sql, event(i));
      });
      // The clock stands at the alarm's time, as Date.now() does between I/O in workerd.
      const clock = manualClock(new Date(T0));
      const relay = new OutboxRelay(state.storage, { clock, batchSize: 10, maxBatches: 1 });
      const queue = countingQueue();

      // The object's alarm() handler, fired at T0: 10 sent, 15 left.
      expect(await relay.onAlarm(queue)).toEqual({ ok: true, sent: 10, remaining: 15 });
      // T0 itself would be the alarm that is running, deleted by workerd after the handler.
      expect(await state.storage.getAlarm()).toBe(T0 + 1);

      // Once the handler is over (a commit's drain), a due time is set as it is.
      expect(await relay.drain(queue)).toEqual({ ok: true, sent: 10, remaining: 5 });
      expect(await state.storage.getAlarm()).toBe(T0);
      await state.storage.deleteAlarm();
    });
  });
});
