// A stream's first command that its decider accepts with no event (a no-op, which `accept()`
// allows) commits nothing: the object must then start no outbox drain either. The drain of an
// object with no outbox table fails, logs an error, sets an alarm and counts the failure in
// storage: the very storage, on a made-up id, that the rolled-back first write exists to avoid.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { aggregateObject } from "../../durable-objects/aggregate";
import { createPlatform } from "../../src/app";
import { MIGRATION_TABLES, MIGRATIONS } from "../../src/generated/migrations";
import { newId } from "../../src/kernel/crypto";
import { type AnyDecider, accept } from "../../src/kernel/events/decider";
import { modules } from "../../src/modules";

/** A decider that takes every command and records nothing. */
const noop: AnyDecider = {
  type: "noop",
  commandSchema: z.object({ type: z.literal("touch") }),
  eventSchema: z.never(),
  stateSchema: z.object({}),
  initialState: {},
  decide: () => accept(),
  evolve: (state) => state,
};

const platform = createPlatform({ modules, migrations: MIGRATIONS, migration_tables: MIGRATION_TABLES });
const Aggregate = aggregateObject({ ...platform, deciders: new Map([["noop", { decider: noop, snapshotEvery: 50 }]]) });

describe("a stream's first command accepted with no event", () => {
  it("answers its version 0 and leaves the object with no storage, no alarm and no drain", async () => {
    const tenantId = `t-${newId()}`;
    const id = newId();
    const stub = env.AGGREGATE.getByName(`${tenantId}/noop/${id}`);
    const drains: Promise<unknown>[] = [];
    const reply = await runInDurableObject(stub, (_instance, state) => {
      // The object's own waitUntil, watched: what the command hands it is awaited below.
      const watched = new Proxy(state, {
        get: (target, key) =>
          key === "waitUntil"
            ? (p: Promise<unknown>) => {
                drains.push(p);
                target.waitUntil(p);
              }
            : Reflect.get(target, key, target),
      });
      const object = new Aggregate(state, env);
      Object.defineProperty(object, "ctx", { value: watched });
      return object.handle({
        stream: { tenantId, type: "noop", id },
        command: { type: "touch" },
        ctx: { now: "2026-06-01T00:00:00.000Z", actor: { kind: "user", id: "01AUTHOR" } },
        requestId: null,
      });
    });
    expect(reply).toMatchObject({ ok: true, version: 0, events: 0 });
    await Promise.all(drains);
    const left = await runInDurableObject(stub, async (_instance, state) => ({
      tables: state.storage.sql
        .exec<{ name: string }>("select name from sqlite_master where type = 'table'")
        .toArray()
        .map((t) => t.name),
      kv: [...state.storage.kv.list()].map(([key]) => key),
      alarm: await state.storage.getAlarm(),
    }));
    expect(left).toEqual({ tables: [], kv: [], alarm: null });
  });
});
