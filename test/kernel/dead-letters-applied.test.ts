// A dead letter whose event a catch-up replay already applied (every subscription that wants
// it recorded it in the ledger) no longer waits: the platform's list says `already_applied`,
// and the hourly report counts it apart (docs/events.md, "Dead letters").
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { systemClock } from "../../src/kernel/clock";
import { routesOf, wants } from "../../src/kernel/events/consume";
import { deadLetterStore } from "../../src/kernel/events/dead-letters";
import { processedLedger } from "../../src/kernel/events/ledger";
import { createLogger } from "../../src/kernel/log";
import { readModels } from "../../src/kernel/read-models";
import { modules } from "../../src/modules";
import { runJobNamed, testApp } from "../helpers";
import { callerOf, rootKey } from "../identity/helpers";

const TYPE = "blog.post.created";
const routes = routesOf(modules).filter((r) => wants(r, TYPE));

function eventOf(id: string) {
  return { id, type: TYPE, tenant_id: "t_applied", stream: `t_applied/blog_post/${id}`, version: 1, data: {} };
}

describe("dead letters a catch-up already applied", () => {
  it("are marked already_applied in the list and not counted as waiting by the report; partly applied ones still wait", async () => {
    // The report covers every waiting letter; test files share storage, so start from none.
    await env.DB.prepare("delete from dead_letters").run();
    const store = deadLetterStore(env.DB);
    const ledger = processedLedger(readModels(env));
    const now = systemClock.now();
    const applied = eventOf(`ev-applied-${crypto.randomUUID()}`);
    const partly = eventOf(`ev-partly-${crypto.randomUUID()}`);
    const untouched = eventOf(`ev-untouched-${crypto.randomUUID()}`);
    for (const [i, event] of [applied, partly, untouched].entries()) {
      await store.store(
        "plinth-events-dlq",
        { id: `m-applied-${i}`, body: event, attempts: 1 },
        "retries exhausted",
        now,
      );
    }
    // A catch-up of every subscription of the type applied one; of one subscription only, another.
    expect(routes.length).toBeGreaterThan(1);
    for (const r of routes) await ledger.mark(r.consumer, applied.id, now);
    await ledger.mark(String(routes[0]?.consumer), partly.id, now);

    const call = callerOf(testApp(modules).fetch);
    const list = await call("/api/v1/platform/events/dead-letters?pending=true", { token: rootKey() });
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    const items = list.body.items as { event: { id: string }; already_applied: boolean }[];
    const flag = (id: string) => items.find((l) => l.event.id === id)?.already_applied;
    expect(flag(applied.id)).toBe(true);
    expect(flag(partly.id)).toBe(false);
    expect(flag(untouched.id)).toBe(false);

    const lines: Record<string, unknown>[] = [];
    const log = createLogger(
      "debug",
      {},
      (_level, line) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    );
    await runJobNamed("events/dead-letter-report", { log });
    expect(lines.find((l) => l.msg === "dead letters wait for an operator")).toMatchObject({
      waiting: 2,
      already_applied: 1,
      by_type: { [TYPE]: 2 },
      by_tenant: { t_applied: 2 },
    });
  });
});
