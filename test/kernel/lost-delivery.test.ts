// A queue delivery lost after the commit: under `npm start` Miniflare's queue
// broker keeps accepted messages in memory, so killing workerd loses them after
// the outbox has let them go (deployed, a queue outliving its retention does the
// same). The writer's inline pass records the stream in the catalog, so a
// catch-up replay, which walks the catalog, still reaches the stream and gives
// the queue-fed subscriptions (audit log, webhooks) what they missed.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createPlatform } from "../../src/app";
import { MIGRATIONS } from "../../src/generated/migrations";
import { aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import type { Envelope } from "../../src/kernel/events/envelope";
import { InlineProjector } from "../../src/kernel/events/inline";
import { modules } from "../../src/modules";
import { postDecider } from "../../src/modules/blog/domain";
import { call, newTenant, rootKey } from "../identity/helpers";

const platform = createPlatform({ modules, migrations: MIGRATIONS });

/** Polls `probe` until it is true (the test queue delivers on its own timers). */
async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what} did not happen in 10 s`);
}

const catalogued = async (stream: string) =>
  (await env.DB.prepare("select version from event_streams where stream = ?").bind(stream).first<{
    version: number;
  }>()) ?? null;

describe("a queue delivery lost after the commit", () => {
  it("leaves the stream in the catalog from the inline pass, so a catch-up replay reaches it", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "t0", content: "c0" } });
    const id = String(created.body.id);
    await call(`/api/v1/blog/posts/${id}`, { method: "PATCH", token: t.adminKey, body: { title: "t1" } });
    const writer = aggregateOf(env, postDecider, t.id, id);
    const events: Envelope[] = await writer.read(1, 100);
    const stream = (events[0] as Envelope).stream;
    // Let the test queue deliver what it has, then undo what it and the real inline pass did: as
    // after a crash that lost the messages before the writer's pass, nothing told the catalog about
    // the stream, and no subscription recorded its events (a pass whose events a subscription had
    // recorded commits nothing of that subscription's, its catalog rows included: consume.ts).
    await until("the catalog's delivery", async () => (await catalogued(stream))?.version === 2);
    await env.DB.prepare("delete from event_streams where stream = ?").bind(stream).run();
    await env.DB.prepare("delete from processed_events where event_id in (?, ?)")
      .bind(events[0]?.id, events[1]?.id)
      .run();

    // The writer's inline pass after the commit, with the writer's state, as the Aggregate runs it.
    const { version, state } = await writer.state();
    await new InlineProjector(platform, env).push(events, { stream, version, state });

    expect(await catalogued(stream)).toEqual({ version: 2 });
    // What a replay walks: a catch-up of the audit log reads the stream's two events.
    const replayed = await call("/api/v1/platform/events/replay", {
      token: rootKey(),
      body: { consumer: "audit:log", tenant_id: t.id },
    });
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ streams: 1, events: 2 });
  });
});
