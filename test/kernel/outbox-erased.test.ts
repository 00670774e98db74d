// A drain under way when its object's tenant is erased (the Aggregate's eraseAll lands while
// the relay awaits the queue) finds its outbox gone with the rest. That is no failure to
// retry: nothing is left to send, and a retry count or alarm written then would outlive the
// erasure beside the one-key tombstone.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TenantDirectory } from "../../durable-objects/tenant-directory";
import { systemClock } from "../../src/kernel/clock";
import { wipeStorage } from "../../src/kernel/durable/erase";
import { markErased } from "../../src/kernel/durable/tombstone";
import { appendOutbox } from "../../src/kernel/outbox";
import type { OutboxQueue } from "../../src/kernel/outbox/drain";
import { OutboxRelay } from "../../src/kernel/outbox/relay";
import { seededEvent } from "./outbox-events";

const event = (i: number) => seededEvent(`evt-erased-${i}`, i, "t-outbox-erased");

describe("an outbox drain when its object is erased meanwhile", () => {
  it("stands down without a failure, a retry count or an alarm", async () => {
    const stub = env.TENANT_DIRECTORY.getByName(`outbox-erased-${crypto.randomUUID()}`);
    const seen = await runInDurableObject(stub, async (_: TenantDirectory, state) => {
      const lines: string[] = [];
      const relay = new OutboxRelay(state.storage, { clock: systemClock, log: { error: (msg) => lines.push(msg) } });
      state.storage.transactionSync(() => {
        for (const i of [1, 2]) appendOutbox(state.storage.sql, event(i));
      });
      // The queue accepts the batch while the erasure empties the object, as the Aggregate's does
      // (its tables are not made again: only the tombstone stays).
      const queue: OutboxQueue = {
        async sendBatch() {
          await wipeStorage(state.storage, () => markErased(state.storage.kv));
          return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
        },
      };
      const outcome = await relay.flush(queue);
      return {
        outcome,
        lines,
        kv: [...state.storage.kv.list()].map(([key]) => key),
        alarm: await state.storage.getAlarm(),
      };
    });
    expect(seen).toEqual({
      outcome: { ok: true, sent: 0, remaining: 0 },
      lines: [],
      kv: ["actor.erased"],
      alarm: null,
    });
  });
});
