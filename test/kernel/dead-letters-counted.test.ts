// Every dead letter counts once in plinth_dead_letters_total, when it is stored: whether it is
// later dismissed, replayed or left waiting, and whether it is an event's or a mail's. An alert on
// `increase(plinth_dead_letters_total[1h]) > 0` must fire for letters an admin dismissed within the
// hour (docs/observability.md, "What is measured"; docs/events.md, "Dead letters").
import { createExecutionContext, createMessageBatch, getQueueResult, SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { systemClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { createQueueHandler } from "../../src/kernel/events/queue";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { runJobNamed } from "../helpers";
import { call, newTenant, ORIGIN, rootKey } from "../identity/helpers";
import { consume } from "../notify/helpers";

/** The value of one series of plinth_dead_letters_total on /metrics, 0 when absent. */
async function deadLetters(source: string, type: string): Promise<number> {
  const text = await (await SELF.fetch(`${ORIGIN}/metrics`)).text();
  const series = `plinth_dead_letters_total{source="${source}",type="${type}"}`;
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Delivers event bodies to the events dead-letter queue's consumer, as the queue does after max_retries. */
async function toEventsDlq(registered: readonly ModuleDef[], messages: { id: string; body: unknown }[]) {
  const batch = createMessageBatch(
    "plinth-events-dlq",
    messages.map((m) => ({ ...m, timestamp: new Date(), attempts: 1 })),
  );
  const ctx = createExecutionContext();
  await createQueueHandler({ modules: registered, needs: KERNEL_NEEDS, clock: systemClock })(batch, env, ctx);
  await getQueueResult(batch, ctx);
}

describe("plinth_dead_letters_total", () => {
  beforeEach(() => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterEach(() => vi.restoreAllMocks());

  it("counts an event dead letter once when stored, though a tenant admin dismisses it before the hourly report", async () => {
    const t = await newTenant();
    // A type of this test's own, published by a probe module: its series moves only with this test's letters.
    const type = `probe.counted_${crypto.randomUUID().slice(0, 8)}.happened`;
    const probe = {
      name: "probe-counted",
      version: "1.0.0",
      events: { publishes: z.discriminatedUnion("type", [z.object({ type: z.literal(type), data: z.object({}) })]) },
    } satisfies ModuleDef;
    const event = (n: number) => ({
      id: `ev-counted-${n}-${crypto.randomUUID()}`,
      type,
      tenant_id: t.id,
      stream: `${t.id}/thing/1`,
      version: n,
      occurred_at: "2031-01-01T00:00:00.000Z",
      actor: { kind: "system", id: null },
      request_id: null,
      data: {},
    });
    const messages = [1, 2].map((n) => ({ id: `m-counted-${crypto.randomUUID()}`, body: event(n) }));
    await toEventsDlq([...modules, probe], messages);
    // The queue delivers a message again when its ack was lost: the letter is stored once, counted once.
    await toEventsDlq([...modules, probe], messages.slice(0, 1));

    const listed = await call("/api/v1/admin/dead-letters", { token: t.adminKey });
    const ids = (listed.body.items as { id: string }[]).map((l) => l.id);
    expect(ids).toHaveLength(2);
    const dismissed = await call(`/api/v1/admin/dead-letters/${ids[0]}`, { token: t.adminKey, method: "DELETE" });
    expect(dismissed.status).toBe(204);
    await runJobNamed("events/dead-letter-report");

    expect(await deadLetters("events", type)).toBe(2);
  });

  it("counts a mail dead letter once when stored, though the operator dismisses it before the hourly report", async () => {
    // A kind of this test's own: its series moves only with this test's letters.
    const kind = `test.counted-${crypto.randomUUID().slice(0, 8)}`;
    // A real tenant: the platform list refuses a tenant_id filter naming none (404).
    const t = await newTenant("counted");
    const mail = (n: number) => ({ id: `mail-counted-${n}-${kind}`, tenant_id: t.id, kind });
    const { ids } = await consume([mail(1), mail(2)], { queue: "plinth-mail-dlq", attempts: 31 });
    const root = { token: rootKey() };
    const listed = await call(`/api/v1/platform/mail/dead-letters?tenant_id=${t.id}&limit=100`, root);
    const letters = (listed.body.items as { id: string; message_id: string }[]).filter((l) =>
      ids.includes(l.message_id),
    );
    expect(letters).toHaveLength(2);
    const dismissed = await call(`/api/v1/platform/mail/dead-letters/${letters[0]?.id}`, {
      ...root,
      method: "DELETE",
    });
    expect(dismissed.status).toBe(204);
    await runJobNamed("events/dead-letter-report");

    expect(await deadLetters("mail", kind)).toBe(2);
  });
});
