// The Aggregate Durable Object itself, over RPC: snapshots, and the stream it is pinned to.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import type { Aggregate } from "../../src/index";
import { newId } from "../../src/kernel/crypto";
import { aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import { postDecider } from "../../src/modules/blog/domain";

const actor = { kind: "user" as const, id: "01AUTHOR" };
const ctx = { now: "2026-06-01T00:00:00.000Z", actor };

/** A fresh post aggregate, its typed client, its raw stub (for the object's internals) and a command runner. */
function freshPost() {
  const tenantId = `t-${newId()}`;
  const id = newId();
  const stream = { tenantId, type: "post", id };
  const post = aggregateOf(env, postDecider, tenantId, id);
  const stub = env.AGGREGATE.getByName(`${tenantId}/post/${id}`);
  const run = async (command: Record<string, unknown>) => {
    const reply = await post.handle({ command, ctx, requestId: null });
    expect(reply.ok, JSON.stringify(reply)).toBe(true);
    return reply;
  };
  return { stream, post, stub, id, run };
}

/** Forgets what the object holds in memory, as an eviction would. */
const evict = (stub: DurableObjectStub<Aggregate>) =>
  runInDurableObject(stub, (instance: Aggregate) => {
    Object.assign(instance, { store: null, key: null });
  });

describe("Aggregate durable object", () => {
  it("takes a first write on an object whose first command was refused and rolled back", async () => {
    // The refused first command's schema went with its rollback: the object must know it is gone,
    // or the next command skips the migration and meets no tables (a 500 for a valid create).
    const { post, id, run } = freshPost();
    const refused = await post.handle({ command: { type: "update", title: "x" }, ctx, requestId: null });
    expect(refused.ok).toBe(false);
    expect(await run({ type: "create", id, title: "v1", content: "", author_id: actor.id })).toMatchObject({
      version: 1,
    });
    expect(await run({ type: "update", title: "v2" })).toMatchObject({ version: 2 });
  });

  it("refuses a write authorized at another version with 412, and takes it at that version", async () => {
    // The command bus authorizes on the state it read; a stream created between that read and
    // the write (an If-Match that did not match version 0 passes on) took a write decided on nothing.
    const { post, id, run } = freshPost();
    await run({ type: "create", id, title: "v1", content: "", author_id: actor.id });
    const stale = await post.handle({
      command: { type: "update", title: "v2" },
      expectedVersion: 1,
      authorizedAt: 0,
      ctx,
      requestId: null,
    });
    expect(stale).toEqual({
      ok: false,
      error: {
        code: "version_conflict",
        message: "the request was authorized at version 0, the current version is 1",
        current_version: 1,
      },
    });
    const fresh = await post.handle({
      command: { type: "update", title: "v2" },
      authorizedAt: 1,
      ctx,
      requestId: null,
    });
    expect(fresh).toMatchObject({ ok: true, version: 2 });
  });

  it("snapshots every snapshot_every events and rebuilds the same state from snapshot + tail", async () => {
    const { post, stub, id, run } = freshPost();
    await run({ type: "create", id, title: "v1", content: "", author_id: actor.id });
    // The blog declares snapshot_every: 50; 53 events leave a snapshot at 50 and a tail of 3.
    for (let i = 2; i <= 53; i++) await run({ type: "update", title: `v${i}` });
    const before = await post.state();
    expect(before.version).toBe(53);
    const snapshot = await runInDurableObject(stub, (_: Aggregate, state) =>
      state.storage.sql.exec<{ version: number }>("select version from snapshot").one(),
    );
    expect(snapshot.version).toBe(50);
    // Drop the events the snapshot covers: a rebuild that still needed them would now differ.
    await runInDurableObject(stub, (_: Aggregate, state) => {
      state.storage.sql.exec("delete from events where version <= 50");
    });
    await evict(stub);
    const after = await post.state();
    expect(after).toEqual(before);
    expect(after.state).toMatchObject({ title: "v53" });
  });

  it("parses every method's arguments with the contract: state refuses a missing argument as read does", async () => {
    const { stub } = freshPost();
    // Called in the object (not over RPC), so the refusal is a plain throw to assert on: the
    // contract's ZodError, not a TypeError from reading a field of nothing.
    await runInDurableObject(stub, (instance: Aggregate) => {
      expect(() => instance.read(undefined as never)).toThrow(ZodError);
      expect(() => instance.state(undefined as never)).toThrow(ZodError);
    });
  });

  it("stays pinned to its stream: its storage never answers for another aggregate, even after eviction", async () => {
    const { stream, post, stub, id, run } = freshPost();
    await run({ type: "create", id, title: "mine", content: "", author_id: actor.id });
    const other = { ...stream, id: "someone-else" };
    // Called in the object (not over RPC), so the refusal is a plain throw to assert on.
    const refused = (call: (instance: Aggregate) => unknown) =>
      runInDurableObject(stub, (instance: Aggregate) => {
        expect(() => call(instance)).toThrow(/this aggregate object serves/);
      });
    await refused((a) => a.state({ stream: other }));
    await evict(stub);
    await refused((a) => a.read({ stream: other }));
    await evict(stub);
    await refused((a) =>
      a.handle({
        stream: { ...stream, tenantId: "another-tenant" },
        command: { type: "publish" },
        ctx,
        requestId: null,
      }),
    );
    expect((await post.state()).version).toBe(1);
  });

  it("refuses a command whose event no queue message can carry, stores nothing, and goes on", async () => {
    const { post, stub, id, run } = freshPost();
    await run({ type: "create", id, title: "small", content: "", author_id: actor.id });
    // 70,000 characters (the blog allows 100,000), but each newline is two bytes as JSON: ~140 KB.
    const refused = await post.handle({
      command: { type: "update", content: "\n".repeat(70_000) },
      ctx,
      requestId: null,
    });
    expect(refused).toMatchObject({
      ok: false,
      error: {
        code: "payload_too_large",
        message: expect.stringMatching(/blog\.post\.updated event of 14\d{4} bytes/),
      },
    });
    const stored = () =>
      runInDurableObject(stub, (_: Aggregate, state) => ({
        events: state.storage.sql.exec<{ n: number }>("select count(*) as n from events").one().n,
        // The create's row may have left already; the refused update's must never have been written.
        outbox: state.storage.sql
          .exec<{ n: number }>("select count(*) as n from outbox where type = 'blog.post.updated'")
          .one().n,
      }));
    expect(await stored()).toEqual({ events: 1, outbox: 0 });
    expect((await post.state()).version).toBe(1);
    // The same size of plain text fits: the stream goes on, with nothing stuck ahead of it.
    await run({ type: "update", content: "x".repeat(70_000) });
    expect((await post.state()).version).toBe(2);
  });

  it("names the stream, version and fields of a stored event its decider's schema no longer reads", async () => {
    const { post, stub, id, run } = freshPost();
    await run({ type: "create", id, title: "mine", content: "", author_id: actor.id });
    // As if the schema had since made a field required: the stored data lacks `title`.
    await runInDurableObject(stub, (_: Aggregate, state) => {
      state.storage.sql.exec("update events set event = json_remove(event, '$.data.title') where version = 1");
    });
    await evict(stub);
    const where = new RegExp(`/post/${id} v1 \\(blog\\.post\\.created\\).*data\\.title`);
    // In the writer (the state is rebuilt there; the message crosses RPC) and in the client (replay, gap fills).
    await expect(post.state()).rejects.toThrow(where);
    await expect(post.read(1, 10)).rejects.toThrow(where);
  });
});
