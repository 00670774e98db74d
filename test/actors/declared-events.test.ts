import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ProbeActor } from "./probe-actor";
import { rejection } from "./rejection";

const T0 = Date.parse("2030-01-01T00:00:00Z");
let n = 0;
async function probe() {
  const stub = env.PROBE_ACTOR.getByName(`declared-${++n}`);
  await stub.setTime({ at: T0 });
  return stub;
}
const rows = (stub: DurableObjectStub<ProbeActor>, table: string) =>
  runInDurableObject(
    stub,
    (_: ProbeActor, state) => state.storage.sql.exec<{ n: number }>(`select count(*) as n from ${table}`).one().n,
  );

/** A refused emit rolled its message back: no note, no event, no outbox row, no stream version. */
async function expectNothingCommitted(stub: DurableObjectStub<ProbeActor>) {
  expect(await stub.notes({})).toEqual([]);
  expect(await stub.emitted()).toEqual([]);
  expect(await rows(stub, "outbox")).toBe(0);
  expect(await rows(stub, "actor_streams")).toBe(0);
}

describe("an actor's emit", () => {
  it("appends a type its module declares", async () => {
    const stub = await probe();
    await stub.note({ value: "a" });
    expect((await stub.emitted()).map((e) => e.type)).toEqual(["probe.note.added"]);
  });

  // An undeclared type reached the tenant's audit log and prefix-following webhook endpoints, while
  // no filter, event_read pattern or subscription could name it: refused at the writer instead.
  it("refuses a type its module does not declare, naming it, and commits nothing of the message", async () => {
    const stub = await probe();
    const error = await rejection(stub.note({ value: "b", type: "probe.note.restocked" }));
    // Its class crosses the RPC in the message: the typed error, thrown in the object.
    expect(error.message).toBe(
      'UndeclaredEvent: ProbeActor emitted event type "probe.note.restocked", which module probe does not declare ' +
        "(it declares probe.note.added): name the actor's module in its options and add the type to that module's " +
        "events.publishes union",
    );
    await expectNothingCommitted(stub);
  });

  // An actor's stream named like an aggregate's (`<tenant>/post/<id>` beside the blog's `post`) is two
  // version counters under one name: the catalog, projections and a replay of the aggregate collide.
  it("refuses a stream whose kind is a registered aggregate type, naming it and its module, and commits nothing", async () => {
    const stub = await probe();
    const error = await rejection(stub.note({ value: "c", stream: "t_probe/post/x" }));
    expect(error.message).toBe(
      'StreamOfAggregate: ProbeActor emitted to stream "t_probe/post/x", whose kind "post" is an aggregate type ' +
        "of module blog: an actor's stream kind is never an aggregate's, name its streams otherwise",
    );
    await expectNothingCommitted(stub);
    // A kind no aggregate has is the actor's to use.
    await stub.note({ value: "d", stream: "t_probe/posts/x" });
    expect(await stub.notes({})).toEqual(["d"]);
  });
});
