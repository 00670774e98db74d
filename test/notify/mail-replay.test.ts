// Replaying pending mail dead letters (POST /api/v1/platform/mail/replay-dead-letters, the CLI's
// replay-pending, which calls it until `more` is false): each letter is sent once, and a letter
// sent is no longer pending, or the next call sends it again.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { mailDeadLetterStore } from "../../src/kernel/notify/dead-letters";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { callerOf, newTenant, rootKey } from "../identity/helpers";

/** A MAIL producer that records what it takes and refuses the batches `refuse` names (1-based). */
function mailQueue(refuse: (call: number) => boolean) {
  const taken: string[] = [];
  let calls = 0;
  const queue = {
    send: async (body: { id: string }) => void taken.push(body.id),
    sendBatch: async (messages: readonly MessageSendRequest<{ id: string }>[]) => {
      if (refuse(++calls)) throw new Error("Queue send failed: service unavailable");
      for (const m of messages) taken.push(m.body.id);
    },
  } as unknown as Queue;
  return { queue, taken };
}

/** `n` dead letters of tenant `tenantId`, each large enough that 100 of them take two sendBatch calls. */
async function lettersOf(tenantId: string, n: number): Promise<string[]> {
  const store = mailDeadLetterStore(env.DB);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `mail-${tenantId}-${i}`;
    const message = {
      id: `msg-${id}`,
      attempts: 31,
      body: { v: 1, id, tenant_id: tenantId, kind: "identity.verify-email", pad: "x".repeat(4_000) },
    } as unknown as Message<unknown>;
    await store.store("plinth-mail-dlq", message, "retries exhausted", new Date());
    ids.push(id);
  }
  return ids;
}

/** POST replay-dead-letters for tenant `tenantId` on a platform whose MAIL producer is `queue`. */
const replayOver = (queue: Queue, tenantId: string) =>
  callerOf(testApp(modules, { MAIL: queue }).fetch)("/api/v1/platform/mail/replay-dead-letters", {
    token: rootKey(),
    body: { tenant_id: tenantId },
  });

describe("replaying pending mail dead letters", () => {
  it("a full page (the default limit, 100) is sent once and marked replayed", async () => {
    const t = await newTenant("replay");
    const letters = await lettersOf(t.id, 100);
    const healthy = mailQueue(() => false);
    const first = await replayOver(healthy.queue, t.id);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({ replayed: 100, more: false });
    const again = await replayOver(healthy.queue, t.id);
    expect(again.body).toEqual({ replayed: 0, more: false });
    expect([...healthy.taken].sort()).toEqual([...letters].sort());
  });

  it("a queue that refuses a later group leaves the groups it took replayed: the next call sends only the rest", async () => {
    const t = await newTenant("replay");
    const letters = await lettersOf(t.id, 100);
    const flaky = mailQueue((call) => call === 2);
    vi.spyOn(console, "error").mockImplementation(() => {});
    const first = await replayOver(flaky.queue, t.id);
    vi.restoreAllMocks();
    expect(first.status).toBe(500);
    expect(flaky.taken.length).toBeGreaterThan(0);
    expect(flaky.taken.length).toBeLessThan(100);

    const healthy = mailQueue(() => false);
    const second = await replayOver(healthy.queue, t.id);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    // Every letter sent once in all: none twice, none left out.
    expect([...flaky.taken, ...healthy.taken].sort()).toEqual([...letters].sort());
    expect(second.body).toEqual({ replayed: 100 - flaky.taken.length, more: false });
  });
});
