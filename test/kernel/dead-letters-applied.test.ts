// A dead letter whose event a catch-up replay already applied (every subscription that wants
// it recorded it in the ledger) no longer waits: the platform's list says `already_applied`,
// and the hourly report counts it apart (docs/events.md, "Dead letters").
import { env } from "cloudflare:workers";
import { describe, expect, it, onTestFinished } from "vitest";
import { systemClock } from "../../src/kernel/clock";
import { routesOf, wants } from "../../src/kernel/events/consume";
import { deadLetterStore } from "../../src/kernel/events/dead-letters";
import { processedLedger } from "../../src/kernel/events/ledger";
import { createLogger } from "../../src/kernel/log";
import { readModels } from "../../src/kernel/read-models";
import { modules } from "../../src/modules";
import { deadLetterReport, REPORT_CHECKED_MAX } from "../../src/modules/events/jobs";
import { runJobNamed, testApp, testRuntime } from "../helpers";
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

describe("the dead-letter report under a flood of letters", () => {
  it("checks a bounded number of letters against the ledger and counts the rest as waiting, so its D1 statements stay bounded", async () => {
    await env.DB.prepare("delete from dead_letters").run();
    // Gone whatever the verdict: the flood's ids sort after every generated one, so a later file
    // of this worker listing the newest letters would find only these.
    onTestFinished(async () => {
      await env.DB.prepare("delete from dead_letters where id like 'dl-flood-%'").run();
    });
    // An outage of a busy platform: far more waiting letters than the report reads one by one.
    const letters = 12_000;
    await env.DB.prepare(
      `with recursive seq(i) as (select 1 union all select i + 1 from seq where i < ?1)
       insert into dead_letters (id, queue, message_id, event_type, tenant_id, body, attempts, received_at)
       select printf('dl-flood-%06d', i), 'plinth-events-dlq', printf('m-flood-%06d', i), ?2,
              case when i % 2 = 0 then 't_flood_a' else 't_flood_b' end,
              json_object('body', json_object('id', printf('ev-flood-%06d', i), 'type', ?2, 'tenant_id', 't_flood',
                'stream', 't_flood/blog_post/x', 'version', 1, 'data', json_object())),
              1, ?3
       from seq`,
    )
      .bind(letters, TYPE, systemClock.now().toISOString())
      .run();

    let statements = 0;
    const db = env.DB;
    const counted = new Proxy(db, {
      get(target, prop) {
        if (prop === "prepare") {
          return (query: string) => {
            statements++;
            return target.prepare(query);
          };
        }
        const value: unknown = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const lines: Record<string, unknown>[] = [];
    const log = createLogger(
      "debug",
      {},
      (_level, line) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    );
    await deadLetterReport.run({
      ...testRuntime(),
      env: { ...env, DB: counted },
      log,
      scheduledTime: systemClock.now().getTime(),
      lastSuccess: null,
      attempt: 1,
      modules,
    });

    const line = lines.find((l) => l.msg === "dead letters wait for an operator");
    expect(line).toMatchObject({
      waiting: letters,
      already_applied: 0,
      by_type: { [TYPE]: letters },
      by_tenant: { t_flood_a: letters / 2, t_flood_b: letters / 2 },
    });
    // A run's D1 queries are limited (1,000 on the paid plan, 50 on the free one): reading every
    // letter, two statements per page of 500, would need one statement per 250 waiting letters.
    expect(statements).toBeLessThanOrEqual(30);
    // The oldest are checked one by one; the rest are counted as waiting.
    expect(line?.unchecked).toBe(letters - REPORT_CHECKED_MAX);
  });
});
