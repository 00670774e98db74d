// A module changes its decider's state shape (a field renamed, one added as required) while
// streams hold snapshots written by the older code: the snapshot is a cache, the events are the
// truth, so a snapshot the new decider cannot use is dropped and the state folded from the start.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { aggregateObject } from "../../durable-objects/aggregate";
import { createPlatform } from "../../src/app";
import { MIGRATION_TABLES, MIGRATIONS } from "../../src/generated/migrations";
import { newId } from "../../src/kernel/crypto";
import { migrateSqlite } from "../../src/kernel/durable/sqlite-schema";
import { AGGREGATE_SCHEMA } from "../../src/kernel/events/aggregate-store";
import { type AnyDecider, accept } from "../../src/kernel/events/decider";
import { modules } from "../../src/modules";
import { warningLines } from "../log-lines";

const Added = z.object({ type: z.literal("tally.added"), data: z.object({ n: z.number() }) });
const Add = z.object({ type: z.literal("add"), n: z.number() });

/** Shape A, as the module first shipped it: `{ count }`. */
const shapeA: AnyDecider = {
  type: "tally",
  commandSchema: Add,
  eventSchema: Added,
  stateSchema: z.object({ count: z.number() }),
  initialState: { count: 0 },
  decide: (command) => accept({ type: "tally.added", data: { n: Add.parse(command).n } }),
  evolve: (state, event) => ({ count: z.object({ count: z.number() }).parse(state).count + Added.parse(event).data.n }),
};

const ShapeB = z.object({ total: z.number(), events: z.number() });
/** Shape B, after the team's change: `count` renamed `total`, and `events` added as required. */
const shapeB: AnyDecider = {
  ...shapeA,
  stateSchema: ShapeB,
  initialState: { total: 0, events: 0 },
  evolve: (state, event) => {
    const s = ShapeB.parse(state);
    return { total: s.total + Added.parse(event).data.n, events: s.events + 1 };
  },
};

const platform = createPlatform({ modules, migrations: MIGRATIONS, migration_tables: MIGRATION_TABLES });
/** The Aggregate class as a deploy running `decider` builds it; snapshots every 2 events. */
const deployOf = (decider: AnyDecider) =>
  aggregateObject({ ...platform, deciders: new Map([["tally", { decider, snapshotEvery: 2 }]]) });

const ctx = { now: "2026-06-01T00:00:00.000Z", actor: { kind: "user" as const, id: "01AUTHOR" } };

/** A fresh tally stream, and a runner of one command on a fresh object (nothing in memory) of a given deploy. */
function freshTally() {
  const tenantId = `t-${newId()}`;
  const id = newId();
  const stream = { tenantId, type: "tally", id };
  const stub = env.AGGREGATE.getByName(`${tenantId}/tally/${id}`);
  const add = (decider: AnyDecider, n: number) =>
    runInDurableObject(stub, (_instance, state) =>
      new (deployOf(decider))(state, env).handle({ stream, command: { type: "add", n }, ctx, requestId: null }),
    );
  const snapshot = () =>
    runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ version: number; state: string; state_version: number }>("select * from snapshot").one(),
    );
  return { stream, stub, add, snapshot };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a snapshot written under an older state shape", () => {
  it("is ignored: the state is folded from the events, one warning names the stream, and the next snapshot has the new shape", async () => {
    const { stream, add, snapshot } = freshTally();
    for (const n of [1, 2, 3]) expect(await add(shapeA, n)).toMatchObject({ ok: true });
    expect(JSON.parse((await snapshot()).state)).toEqual({ count: 3 });

    const warnings = warningLines();
    // The new deploy's first command on the stream: before, the snapshot's parse threw (a 500 on every command).
    const reply = await add(shapeB, 4);
    expect(reply).toMatchObject({ ok: true, version: 4, state: { total: 10, events: 4 } });
    const key = `${stream.tenantId}/tally/${stream.id}`;
    const mine = warnings.filter((l) => l.stream === key);
    expect(mine).toEqual([
      expect.objectContaining({
        level: "warn",
        msg: "aggregate snapshot ignored; state rebuilt from the events",
        aggregate: "tally",
        reason: "state_schema",
        snapshot_version: 2,
      }),
    ]);
    // Why, by field and code, never the state's contents.
    expect(JSON.stringify(mine)).not.toContain('"count":3');
    // Version 4 was a snapshot point: the snapshot now holds shape B.
    expect(await snapshot()).toMatchObject({ version: 4, state_version: 1 });
    expect(JSON.parse((await snapshot()).state)).toEqual({ total: 10, events: 4 });
  });

  it("is ignored when the decider's stateVersion moved on, even when it still parses", async () => {
    const { stream, add, snapshot } = freshTally();
    for (const n of [1, 2]) expect(await add(shapeA, n)).toMatchObject({ ok: true });
    // Same schema, new meaning: `count` now counts double. Only the bump says the snapshot is stale.
    const doubled: AnyDecider = {
      ...shapeA,
      stateVersion: 2,
      evolve: (state, event) => ({
        count: z.object({ count: z.number() }).parse(state).count + 2 * Added.parse(event).data.n,
      }),
    };
    const warnings = warningLines();
    expect(await add(doubled, 5)).toMatchObject({ ok: true, version: 3, state: { count: 16 } });
    expect(warnings.filter((l) => l.stream === `${stream.tenantId}/tally/${stream.id}`)).toEqual([
      expect.objectContaining({ reason: "state_version", snapshot_state_version: 1, state_version: 2 }),
    ]);
    expect(await add(doubled, 1)).toMatchObject({ ok: true, version: 4, state: { count: 18 } });
    expect(await snapshot()).toMatchObject({ version: 4, state_version: 2 });
  });

  it("is ignored when it is not JSON, and the warning quotes none of it", async () => {
    const { stream, stub, add } = freshTally();
    for (const n of [1, 2]) expect(await add(shapeA, n)).toMatchObject({ ok: true });
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("update snapshot set state = ?", '{"count": secret-3');
    });
    const warnings = warningLines();
    expect(await add(shapeA, 4)).toMatchObject({ ok: true, version: 3, state: { count: 7 } });
    const mine = warnings.filter((l) => l.stream === `${stream.tenantId}/tally/${stream.id}`);
    expect(mine).toEqual([expect.objectContaining({ reason: "not_json", snapshot_version: 2 })]);
    expect(JSON.stringify(mine)).not.toContain("secret");
  });

  it("counts a snapshot stored before snapshots had a state version as version 1, and uses it", async () => {
    const { stream, stub, add } = freshTally();
    // Storage as the deploy before this change left it (schema version 2), with a snapshot whose
    // state the events do not give: a load that used it shows it.
    await runInDurableObject(stub, (_instance, state) => {
      migrateSqlite(state.storage, AGGREGATE_SCHEMA.slice(0, 2));
      state.storage.sql.exec("insert into stream (id, key) values (1, ?)", `${stream.tenantId}/tally/${stream.id}`);
      state.storage.sql.exec(
        "insert into snapshot (id, version, state) values (1, 7, ?)",
        JSON.stringify({ count: 100 }),
      );
    });
    expect(await add(shapeA, 1)).toMatchObject({ ok: true, version: 8, state: { count: 101 } });
  });
});
