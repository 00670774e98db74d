// Two paths applying the same events at once (a catch-up replay and the queue's delivery of a
// post written during it, the writer's inline pass and the queue, two deliveries of one message
// in concurrent batches) each read the ledger before either commits. The ledger must still make a
// batch subscription's writes count once per event: a projection that adds (per-author counts)
// is not repeat-safe, and docs/events.md promises its writes commit with their marks.
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../src/kernel/crypto";
import { applyRoute, canonicalOrder } from "../../src/kernel/events/consume";
import type { Envelope } from "../../src/kernel/events/envelope";
import type { Subscription } from "../../src/kernel/modules/types";
import { readModels } from "../../src/kernel/read-models";
import { testRuntime } from "../helpers";

const TABLE = "test_ledger_race_counts";
const counts = sqliteTable(TABLE, { tenant_id: text("tenant_id").primaryKey(), n: integer("n").notNull() });

/** Adds one per event to its tenant's row: what a per-author count does. */
const counter: Subscription = {
  name: "counts",
  types: ["test.counted"],
  async handleBatch(events, { env }) {
    const db = readModels(env);
    return {
      writes: events.map((e) =>
        db
          .insert(counts)
          .values({ tenant_id: e.tenant_id, n: 1 })
          .onConflictDoUpdate({ target: counts.tenant_id, set: { n: sql`${counts.n} + 1` } }),
      ),
    };
  },
};
const route = { module: "test", consumer: `test:race-${newId()}`, subscription: counter };

function events(tenantId: string, count: number): Envelope[] {
  return canonicalOrder(
    Array.from({ length: count }, (_, i) => ({
      id: newId(),
      type: "test.counted",
      tenant_id: tenantId,
      stream: `${tenantId}/counted/${i}`,
      version: 1,
      occurred_at: new Date(Date.UTC(2026, 11, 7, 0, 0, i)).toISOString(),
      actor: { kind: "system", id: "test" },
      request_id: null,
      data: {},
    })),
  );
}

const count = async (tenantId: string) =>
  (await env.DB.prepare(`select n from ${TABLE} where tenant_id = ?`).bind(tenantId).first<{ n: number }>())?.n ?? 0;

beforeAll(async () => {
  await env.DB.prepare(`create table if not exists ${TABLE} (tenant_id text primary key, n integer not null)`).run();
});

describe("a batch subscription's writes count once per event", () => {
  it("when two paths apply the same events at once, each having found them unrecorded", async () => {
    const tenantId = newId();
    const batch = events(tenantId, 5);
    const runtime = testRuntime();
    const [a, b] = await Promise.all([
      applyRoute(route, batch, runtime, { fillGaps: true }, "replay"),
      applyRoute(route, batch, runtime, { fillGaps: true }, "queue"),
    ]);
    expect(await count(tenantId)).toBe(5);
    // Neither path fails: the one that lost the race finds the events applied, as a redelivery does.
    expect([...a.keys(), ...b.keys()]).toEqual([]);
  });

  it("when a path applies events another recorded after its ledger read, and new ones with them", async () => {
    const tenantId = newId();
    const [first, ...rest] = [events(tenantId, 3), events(tenantId, 2)];
    const runtime = testRuntime();
    expect((await applyRoute(route, first ?? [], runtime, { fillGaps: true }, "inline")).size).toBe(0);
    const late = canonicalOrder([...(first ?? []), ...rest.flat()]);
    expect((await applyRoute(route, late, runtime, { fillGaps: true }, "queue")).size).toBe(0);
    expect(await count(tenantId)).toBe(5);
  });

  it("except in a rebuild, which applies recorded events again on purpose", async () => {
    const tenantId = newId();
    const batch = events(tenantId, 4);
    const runtime = testRuntime();
    await applyRoute(route, batch, runtime, { fillGaps: true }, "replay");
    await env.DB.prepare(`delete from ${TABLE} where tenant_id = ?`).bind(tenantId).run();
    const failed = await applyRoute(route, batch, runtime, { fillGaps: true, reapply: true }, "replay");
    expect(failed.size).toBe(0);
    expect(await count(tenantId)).toBe(4);
  });
});
