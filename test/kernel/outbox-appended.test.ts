// A writer tells its outbox relay how many rows its commits appended, so a commit that appended none
// costs no query: the Aggregate (per command), the TenantDirectory (its store counts what it emitted)
// and every actor (its transactions count what emit() appended). The relay still looks once per
// object lifetime, and after a failed drain whose retry could not be scheduled: the rows it would
// otherwise trust an alarm with.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TenantDirectory } from "../../durable-objects/tenant-directory";
import { systemClock } from "../../src/kernel/clock";
import type { OutgoingEvent } from "../../src/kernel/events/envelope";
import { eventsOf } from "../../src/kernel/events/pack";
import { appendOutbox } from "../../src/kernel/outbox";
import type { OutboxQueue } from "../../src/kernel/outbox/drain";
import { OutboxRelay } from "../../src/kernel/outbox/relay";
import { directory } from "../../src/modules/identity/directory/contract";
import type { ProbeActor } from "../actors/probe-actor";
import { newTenant } from "../identity/helpers";
import { seededEvent, until } from "./outbox-events";

/** A row appended behind the relay's back, as a lifetime that ended between its commit and its alarm leaves one. */
const stray = (i: number) => seededEvent(`evt-stray-${crypto.randomUUID()}-${i}`, i);

const pending = (storage: DurableObjectStorage) =>
  storage.sql.exec<{ n: number }>("select count(*) as n from outbox").one().n;

/** A queue that records the ids it accepted, or throws while `failing`. */
function fakeQueue() {
  const queue: OutboxQueue & { failing: boolean; sent: string[] } = {
    failing: false,
    sent: [],
    async sendBatch(messages: Iterable<MessageSendRequest<unknown>>): Promise<QueueSendBatchResponse> {
      if (queue.failing) throw new Error("Queue sendBatch failed: Service Unavailable");
      for (const m of messages) queue.sent.push(...(eventsOf(m.body) as OutgoingEvent[]).map((e) => e.id));
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    },
  };
  return queue;
}

/** The object's storage as a relay sees it, counting the "is there anything to send" queries. */
function counted(storage: DurableObjectStorage) {
  let asked = 0;
  const sql = new Proxy(storage.sql, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (key !== "exec" || typeof value !== "function") return value;
      return (query: string, ...bindings: unknown[]) => {
        if (query.includes("exists")) asked++;
        return Reflect.apply(value, target, [query, ...bindings]);
      };
    },
  });
  const proxied = new Proxy(storage, {
    get(target, key) {
      if (key === "sql") return sql;
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { storage: proxied, asked: () => asked };
}

/** Polls `check` (every 10 ms, up to 2 s) until it holds. */

const freshDirectoryObject = () => env.TENANT_DIRECTORY.getByName(`outbox-appended-${crypto.randomUUID()}`);

describe("OutboxRelay told what a commit appended", () => {
  afterEach(() => vi.restoreAllMocks());

  it("looks once per lifetime, then takes a commit that appended nothing at its word: no query, no drain", async () => {
    await runInDurableObject(freshDirectoryObject(), async (_: TenantDirectory, state) => {
      const { storage, asked } = counted(state.storage);
      const relay = new OutboxRelay(storage, { clock: systemClock });
      const queue = fakeQueue();
      const waited: Promise<unknown>[] = [];
      const ctx = { waitUntil: (p: Promise<unknown>) => void waited.push(p) };

      // A new lifetime: the first commit, though it appended nothing, looks, and sends what an earlier one left.
      const left = stray(1);
      appendOutbox(state.storage.sql, left);
      relay.afterCommit(ctx, queue, 0);
      await Promise.all(waited);
      expect(asked()).toBe(1);
      expect(queue.sent).toEqual([left.id]);

      // From then on, nothing appended is nothing to do: not even the question.
      appendOutbox(state.storage.sql, stray(2));
      const drains = waited.length;
      relay.afterCommit(ctx, queue, 0);
      relay.afterCommit(ctx, queue, 0);
      expect(asked()).toBe(1);
      expect(waited).toHaveLength(drains);
      expect(pending(state.storage)).toBe(1);

      // A commit that appended a row drains everything waiting, without asking either.
      appendOutbox(state.storage.sql, stray(3));
      relay.afterCommit(ctx, queue, 1);
      await Promise.all(waited);
      expect(asked()).toBe(1);
      expect(queue.sent).toHaveLength(3);
      expect(pending(state.storage)).toBe(0);
    });
  });

  it("after a failed drain whose retry could not be scheduled, looks at the next commit whatever it appended", async () => {
    await runInDurableObject(freshDirectoryObject(), async (_: TenantDirectory, state) => {
      const { storage, asked } = counted(state.storage);
      const logged: string[] = [];
      const relay = new OutboxRelay(storage, {
        clock: systemClock,
        log: { error: (msg) => void logged.push(msg) },
        // An alarm that cannot be set: the failed drain's rows get no retry.
        alarm: {
          get: () => null,
          set: () => {
            throw new Error("setAlarm failed");
          },
        },
      });
      const queue = fakeQueue();
      queue.failing = true;
      const waited: Promise<unknown>[] = [];
      const ctx = { waitUntil: (p: Promise<unknown>) => void waited.push(p) };

      const first = stray(1);
      appendOutbox(state.storage.sql, first);
      relay.afterCommit(ctx, queue, 1);
      await Promise.all(waited);
      expect(logged).toEqual([
        "outbox alarm could not be set",
        "outbox retry could not be scheduled",
        "outbox drain failed",
      ]);
      expect(pending(state.storage)).toBe(1);

      // Nothing would send that row but a commit: the next one looks, though it appended nothing.
      queue.failing = false;
      relay.afterCommit(ctx, queue, 0);
      await Promise.all(waited);
      expect(asked()).toBe(1);
      expect(queue.sent).toEqual([first.id]);
      relay.afterCommit(ctx, queue, 0);
      expect(asked()).toBe(1);
    });
  });
});

describe("writers tell their relay what they appended", () => {
  afterEach(() => vi.restoreAllMocks());

  it("TenantDirectory: a commit that appended nothing arms no alarm, one that appended does", async () => {
    const t = await newTenant();
    const stub = env.TENANT_DIRECTORY.getByName(t.id);
    const alarm = () => runInDurableObject(stub, (_: TenantDirectory, s) => s.storage.getAlarm());
    const ctx = { now: new Date().toISOString(), actor: { kind: "system" as const, id: null }, requestId: null };
    // The tenant's creation drained, and its safety-net alarm, fired, finds nothing: none is set.
    await until("the outbox emptied by the relay", async () => (await stub.outbox(100)).length === 0);
    await runDurableObjectAlarm(stub);
    expect(await alarm()).toBeNull();
    await runInDurableObject(stub, (_: TenantDirectory, s) => appendOutbox(s.storage.sql, stray(1)));

    // A logout of a token it does not know commits nothing to send: the relay does not look, so
    // the row behind its back stays, and no alarm is set.
    expect(await directory(env, t.id).logout({ ctx, presentedHash: "0".repeat(64) })).toEqual({ userId: null });
    expect(await alarm()).toBeNull();
    expect(await stub.outbox(100)).toHaveLength(1);

    // A failed login appends its event: the alarm is armed, and the drain takes both rows.
    await directory(env, t.id).loginFailed({ ctx, reason: "unknown_email" });
    expect(await alarm()).toEqual(expect.any(Number));
    await until("the outbox emptied by the relay", async () => (await stub.outbox(100)).length === 0);
    expect(await stub.outbox(100)).toEqual([]);
  });

  it("an actor: a message that appended nothing arms no relay timer, one that appended does", async () => {
    const T0 = Date.parse("2030-01-01T00:00:00Z");
    const stub = env.PROBE_ACTOR.getByName(`probe-appended-${crypto.randomUUID()}`);
    await stub.setTime({ at: T0 });
    const relayTimer = () =>
      runInDurableObject(
        stub,
        (_: ProbeActor, s) =>
          s.storage.sql.exec<{ at: number }>("select at from actor_timers where key = '__outbox_relay'").toArray()[0]
            ?.at ?? null,
      );
    const outbox = () => runInDurableObject(stub, (_: ProbeActor, s) => pending(s.storage));
    // Its first message looks (nothing there) and arms nothing.
    expect(await stub.notes({})).toEqual([]);
    expect(await relayTimer()).toBeNull();
    await runInDurableObject(stub, (_: ProbeActor, s) => appendOutbox(s.storage.sql, stray(1)));

    // A read appended nothing: the relay does not look, the row stays, no relay timer.
    expect(await stub.notes({})).toEqual([]);
    expect(await relayTimer()).toBeNull();
    expect(await outbox()).toBe(1);

    // A note emits an event: the relay's safety net is armed (30 s after its drain began), and both rows leave.
    await stub.note({ value: "a" });
    expect(await relayTimer()).toBe(T0 + 30_000);
    await until("the outbox emptied", async () => (await outbox()) === 0);
    expect(await outbox()).toBe(0);
  });
});
