import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TenantDirectory } from "../../durable-objects/tenant-directory";
import { systemClock } from "../../src/kernel/clock";
import type { Json, OutgoingEvent } from "../../src/kernel/events/envelope";
import { eventsOf } from "../../src/kernel/events/pack";
import { appendOutbox, EventTooLargeError, MAX_EVENT_BYTES } from "../../src/kernel/outbox";
import { drainOutbox, type OutboxQueue } from "../../src/kernel/outbox/drain";
import { OutboxRelay } from "../../src/kernel/outbox/relay";
import { manualTime } from "../../src/kernel/resilience/sleep";
import { newTenant } from "../identity/helpers";
import { seededEvent, until } from "./outbox-events";

// A TenantDirectory that no RPC touched: its outbox is only what a test appends.
const freshObject = () => env.TENANT_DIRECTORY.getByName(`outbox-test-${crypto.randomUUID()}`);

const event = (i: number, data: Record<string, Json> = {}) =>
  seededEvent(`evt-${String(i).padStart(5, "0")}`, i, "t-outbox", data);

function seed(storage: DurableObjectStorage, from: number, count: number, data: Record<string, Json> = {}): void {
  storage.transactionSync(() => {
    for (let i = from; i < from + count; i++) appendOutbox(storage.sql, event(i, data));
  });
}

const pending = (storage: DurableObjectStorage) =>
  storage.sql.exec<{ n: number }>("select count(*) as n from outbox").one().n;

/** A queue that records each batch's events (unpacked) and message count, or throws while `failing`; `onSend` runs before it accepts. */
function fakeQueue(onSend?: (bodies: OutgoingEvent[]) => void | Promise<void>) {
  const queue: OutboxQueue & { failing: boolean; batches: OutgoingEvent[][]; messages: number[] } = {
    failing: false,
    batches: [],
    messages: [],
    async sendBatch(messages: Iterable<MessageSendRequest<unknown>>): Promise<QueueSendBatchResponse> {
      if (queue.failing) throw new Error("Queue sendBatch failed: Service Unavailable");
      const list = [...messages];
      expect(list.every((m) => m.contentType === "json")).toBe(true);
      queue.messages.push(list.length);
      const bodies = list.flatMap((m) => eventsOf(m.body) as OutgoingEvent[]);
      await onSend?.(bodies);
      queue.batches.push(bodies);
      return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } };
    },
  };
  return queue;
}

/** Polls `check` (every 10 ms, up to 2 s) until it holds; for work the runtime does on its own time. */

const ids = (batches: OutgoingEvent[][]) => batches.flat().map((e) => e.id);
const expectedIds = (count: number) => Array.from({ length: count }, (_, i) => event(i).id);

describe("drainOutbox", () => {
  it("sends every row oldest first, at most 100 per batch, deleting rows only after the queue accepted them", async () => {
    await runInDurableObject(freshObject(), async (_: TenantDirectory, state) => {
      seed(state.storage, 0, 250);
      const stillStored: number[] = [];
      const queue = fakeQueue((bodies) => {
        const found = state.storage.sql
          .exec<{ n: number }>(
            "select count(*) as n from outbox where id in (select value from json_each(?))",
            JSON.stringify(bodies.map((b) => b.id)),
          )
          .one().n;
        stillStored.push(found);
      });
      expect(await drainOutbox(state.storage, queue)).toEqual({
        sent: 250,
        remaining: 0,
        oldest: event(0).occurred_at,
      });
      expect(queue.batches.map((b) => b.length)).toEqual([100, 100, 50]);
      expect(stillStored).toEqual([100, 100, 50]);
      expect(ids(queue.batches)).toEqual(expectedIds(250));
      expect(queue.batches[0]?.[0]).toEqual(event(0));
      expect(pending(state.storage)).toBe(0);
    });
  });

  it("keeps each batch under Queues' 256 KB limit", async () => {
    await runInDurableObject(freshObject(), async (_: TenantDirectory, state) => {
      seed(state.storage, 0, 10, { blob: "x".repeat(60_000) });
      const queue = fakeQueue();
      expect(await drainOutbox(state.storage, queue)).toMatchObject({ sent: 10, remaining: 0 });
      expect(queue.batches.map((b) => b.length)).toEqual([4, 4, 2]);
      for (const batch of queue.batches) expect(JSON.stringify(batch).length).toBeLessThan(256_000);
      expect(ids(queue.batches)).toEqual(expectedIds(10));
    });
  });

  it("when sendBatch throws, rethrows and keeps every unsent row", async () => {
    await runInDurableObject(freshObject(), async (_: TenantDirectory, state) => {
      seed(state.storage, 0, 150);
      let calls = 0;
      const queue = fakeQueue(() => {
        calls++;
        if (calls === 2) throw new Error("Queue sendBatch failed: Too Many Requests");
      });
      await expect(drainOutbox(state.storage, queue)).rejects.toThrow("Too Many Requests");
      expect(ids(queue.batches)).toEqual(expectedIds(100));
      expect(pending(state.storage)).toBe(50);
    });
  });

  it("never drops a row too large for a queue message: it blocks, after the rows before it went", async () => {
    await runInDurableObject(freshObject(), async (_: TenantDirectory, state) => {
      seed(state.storage, 0, 2);
      // Written as a row stored before writers refused such events (appendOutbox now throws on it).
      const big = event(2, { blob: "secret-payload-".repeat(9_000) });
      state.storage.sql.exec(
        "insert into outbox (id, type, event, created_at) values (?, ?, ?, ?)",
        big.id,
        big.type,
        JSON.stringify(big),
        big.occurred_at,
      );
      const queue = fakeQueue();
      const failure = drainOutbox(state.storage, queue);
      await expect(failure).rejects.toThrow(
        /seq 3 \(test\.outbox\.seeded\) is \d+ bytes, over the queue message limit/,
      );
      await expect(failure).rejects.not.toThrow("secret-payload");
      expect(ids(queue.batches)).toEqual(expectedIds(2));
      expect(pending(state.storage)).toBe(1);
    });
  });
});

describe("appendOutbox", () => {
  /** An event whose JSON is exactly `bytes` long in UTF-8, padded with `unit` (1 or 3 bytes). */
  const sized = (i: number, bytes: number, unit = "a") => {
    const base = JSON.stringify(event(i, { blob: "" })).length;
    const width = new TextEncoder().encode(unit).byteLength;
    const pad = unit.repeat(Math.floor((bytes - base) / width));
    return event(i, { blob: pad + "a".repeat(bytes - base - pad.length * width) });
  };

  it("refuses an event no queue message can carry, counting UTF-8 bytes, and its transaction writes nothing", async () => {
    await runInDurableObject(freshObject(), async (_: TenantDirectory, state) => {
      const exact = sized(0, MAX_EVENT_BYTES);
      expect(new TextEncoder().encode(JSON.stringify(exact)).byteLength).toBe(MAX_EVENT_BYTES);
      state.storage.transactionSync(() => appendOutbox(state.storage.sql, exact));
      expect(pending(state.storage)).toBe(1);

      // Fewer characters than the limit, but three bytes each: over it.
      const euros = event(1, { blob: "€".repeat(Math.ceil(MAX_EVENT_BYTES / 3)) });
      expect(JSON.stringify(euros).length).toBeLessThan(MAX_EVENT_BYTES);
      for (const tooBig of [sized(1, MAX_EVENT_BYTES + 1), euros]) {
        expect(() =>
          state.storage.transactionSync(() => {
            appendOutbox(state.storage.sql, event(2));
            appendOutbox(state.storage.sql, tooBig);
          }),
        ).toThrow(EventTooLargeError);
      }
      // The small event appended before the refused one rolled back with it.
      expect(pending(state.storage)).toBe(1);
      // And the one that fits exactly is sent, as one message.
      const queue = fakeQueue();
      expect(await drainOutbox(state.storage, queue)).toMatchObject({ sent: 1, remaining: 0 });
      expect(ids(queue.batches)).toEqual([exact.id]);
    });
  });
});

describe("OutboxRelay", () => {
  afterEach(() => vi.restoreAllMocks());

  it("on failure keeps the rows and retries from the alarm after 1 s, 2 s, 4 s; the next alarm drains", async () => {
    const stub = freshObject();
    const logged = await runInDurableObject(stub, async (_: TenantDirectory, state) => {
      const lines: { msg: string; fields: unknown }[] = [];
      const relay = new OutboxRelay(state.storage, {
        clock: systemClock,
        log: { error: (msg, fields) => lines.push({ msg, fields }) },
      });
      seed(state.storage, 0, 3, { note: "private-payload" });
      const queue = fakeQueue();
      queue.failing = true;
      const alarms: number[] = [];
      for (const expected of [1000, 2000, 4000]) {
        const outcome = alarms.length === 0 ? await relay.flush(queue) : await relay.onAlarm(queue);
        expect(outcome).toEqual({ ok: false, attempt: alarms.length + 1, retryInMs: expected });
        const alarm = await state.storage.getAlarm();
        expect(alarm).toBeGreaterThan(Date.now() + expected - 500);
        alarms.push(alarm ?? 0);
      }
      expect(alarms[1]).toBeGreaterThan(alarms[0] ?? 0);
      expect(alarms[2]).toBeGreaterThan(alarms[1] ?? 0);
      expect(pending(state.storage)).toBe(3);
      expect(relay.attempts()).toBe(3);
      return lines;
    });
    expect(logged.map((l) => l.msg)).toEqual(Array(3).fill("outbox drain failed"));
    expect(logged[2]?.fields).toMatchObject({ attempt: 3, retry_in_ms: 4000, pending: 3 });
    expect(JSON.stringify(logged)).not.toContain("private-payload");

    // The object's own alarm handler, with the real EVENTS queue working, sends them and stands down.
    const sendBatch = vi.spyOn(env.EVENTS, "sendBatch");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(
      sendBatch.mock.calls.flatMap(([messages]) =>
        [...messages].flatMap((m) => eventsOf(m.body) as OutgoingEvent[]).map((e) => e.id),
      ),
    ).toEqual(expectedIds(3));
    await runInDurableObject(stub, async (_: TenantDirectory, state) => {
      expect(pending(state.storage)).toBe(0);
      expect(await state.storage.getAlarm()).toBeNull();
      expect(new OutboxRelay(state.storage, { clock: systemClock }).attempts()).toBe(0);
    });
  });

  it("sets the safety-net alarm before the first drain and leaves it armed: later drains neither read nor set it, and when it fires with nothing left it sends nothing", async () => {
    const stub = freshObject();
    await runInDurableObject(stub, async (_: TenantDirectory, state) => {
      // The storage as the relay sees it, with its alarm calls counted.
      const alarmCalls: string[] = [];
      const storage = new Proxy(state.storage, {
        get(target, key) {
          const value = Reflect.get(target, key);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            if (String(key).includes("Alarm")) alarmCalls.push(String(key));
            return Reflect.apply(value, target, args);
          };
        },
      });
      const relay = new OutboxRelay(storage, { clock: systemClock });
      const waited: Promise<unknown>[] = [];
      const ctx = { waitUntil: (p: Promise<unknown>) => void waited.push(p) };
      seed(state.storage, 0, 2);
      const alarmDuringSend: (number | null)[] = [];
      relay.afterCommit(
        ctx,
        fakeQueue(async () => void alarmDuringSend.push(await state.storage.getAlarm())),
      );
      expect(await Promise.all(waited)).toEqual([{ ok: true, sent: 2, remaining: 0 }]);
      const armed = alarmDuringSend[0];
      expect(armed).toEqual(expect.any(Number));
      expect(alarmCalls).toEqual(["getAlarm", "setAlarm"]);
      expect(await state.storage.getAlarm()).toBe(armed);

      // The next commits: the relay knows its alarm is set, so no alarm call at all.
      const queue = fakeQueue();
      seed(state.storage, 2, 1);
      relay.afterCommit(ctx, queue);
      seed(state.storage, 3, 1);
      relay.afterCommit(ctx, queue);
      const outcomes = await Promise.all(waited);
      expect(ids(queue.batches)).toEqual([event(2).id, event(3).id]);
      expect(alarmCalls).toEqual(["getAlarm", "setAlarm"]);
      expect(pending(state.storage)).toBe(0);

      // Nothing pending: no drain.
      relay.afterCommit(ctx, fakeQueue());
      expect(waited).toHaveLength(outcomes.length);
    });
    // The alarm left armed fires: it finds nothing to send, and no alarm is set again.
    const sendBatch = vi.spyOn(env.EVENTS, "sendBatch");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(sendBatch).not.toHaveBeenCalled();
    await runInDurableObject(stub, async (_: TenantDirectory, state) => {
      expect(await state.storage.getAlarm()).toBeNull();
    });
  });

  it("a commit that says it appended rows is drained without asking SQLite first; without the hint the relay asks, with 0 (once it has looked) it does not", async () => {
    await runInDurableObject(freshObject(), async (_: TenantDirectory, state) => {
      // The storage as the relay sees it, with the statements it runs recorded.
      const statements: string[] = [];
      const sql = new Proxy(state.storage.sql, {
        get(target, key) {
          const value = Reflect.get(target, key);
          if (key !== "exec" || typeof value !== "function") return value;
          return (query: string, ...bindings: unknown[]) => {
            statements.push(query);
            return Reflect.apply(value, target, [query, ...bindings]);
          };
        },
      });
      const storage = new Proxy(state.storage, {
        get(target, key) {
          if (key === "sql") return sql;
          const value = Reflect.get(target, key);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const relay = new OutboxRelay(storage, { clock: systemClock });
      const queue = fakeQueue();
      const waited: Promise<unknown>[] = [];
      const ctx = { waitUntil: (p: Promise<unknown>) => void waited.push(p) };
      const asked = () => statements.filter((q) => q.includes("exists")).length;

      seed(state.storage, 0, 2);
      relay.afterCommit(ctx, queue, 2);
      await Promise.all(waited);
      expect(ids(queue.batches)).toEqual(expectedIds(2));
      expect(asked()).toBe(0);

      // No hint: the relay asks, finds the row and sends it.
      seed(state.storage, 2, 1);
      relay.afterCommit(ctx, queue);
      await Promise.all(waited);
      expect(asked()).toBe(1);
      expect(ids(queue.batches)).toEqual(expectedIds(3));

      // A commit that appended nothing: the relay, having looked in this lifetime, neither asks nor drains
      // (test/kernel/outbox-appended.test.ts: what it trusts that with, and when it looks again).
      const drains = waited.length;
      relay.afterCommit(ctx, queue, 0);
      expect(asked()).toBe(1);
      expect(waited).toHaveLength(drains);
      expect(pending(state.storage)).toBe(0);
    });
  });

  it("when rows remain past maxBatches, sets an immediate alarm that continues the drain", async () => {
    const stub = freshObject();
    await runInDurableObject(stub, async (_: TenantDirectory, state) => {
      seed(state.storage, 0, 25);
      const relay = new OutboxRelay(state.storage, { clock: systemClock, batchSize: 10, maxBatches: 1 });
      expect(await relay.drain(fakeQueue())).toEqual({ ok: true, sent: 10, remaining: 15 });
      expect(await state.storage.getAlarm()).toBeLessThanOrEqual(Date.now());
    });
    // The alarm is due at once, so the runtime fires it by itself and the object's relay sends the rest.
    const left = () =>
      runInDurableObject(stub, async (_: TenantDirectory, state) => ({
        rows: pending(state.storage),
        alarm: await state.storage.getAlarm(),
      }));
    await until("every row sent and no alarm left", async () => {
      const now = await left();
      return now.rows === 0 && now.alarm === null;
    });
    expect(await left()).toEqual({ rows: 0, alarm: null });
  });

  it("with paceMs, a busy object sends at most once per pace, every commit since the last in one batch; a commit after a quiet spell leaves at once", async () => {
    await runInDurableObject(freshObject(), async (_: TenantDirectory, state) => {
      const time = manualTime("2026-01-01T00:00:00Z");
      const relay = new OutboxRelay(state.storage, { paceMs: 20, clock: time.clock, sleeper: time.sleeper });
      const queue = fakeQueue();
      const waited: Promise<unknown>[] = [];
      const ctx = { waitUntil: (p: Promise<unknown>) => void waited.push(p) };
      const commit = (i: number) => {
        seed(state.storage, i, 1);
        relay.afterCommit(ctx, queue);
      };
      commit(0);
      await Promise.all(waited);
      expect(queue.batches.map((b) => b.length)).toEqual([1]);
      // Four commits within the pace: none leaves before it has passed, then all four in one sendBatch.
      await time.advance(5);
      for (let i = 1; i <= 4; i++) commit(i);
      await time.advance(14);
      expect(queue.batches).toHaveLength(1);
      await time.advance(1);
      await Promise.all(waited);
      expect(queue.batches.map((b) => b.length)).toEqual([1, 4]);
      // Quiet for longer than the pace: the next commit is sent at once.
      await time.advance(50);
      commit(5);
      await Promise.all(waited);
      expect(queue.batches.map((b) => b.length)).toEqual([1, 4, 1]);
      expect(ids(queue.batches)).toEqual(expectedIds(6));
      expect(pending(state.storage)).toBe(0);
    });
  });

  it("racing drains send each row once, including rows committed while a drain was sending", async () => {
    await runInDurableObject(freshObject(), async (_: TenantDirectory, state) => {
      seed(state.storage, 0, 150);
      const relay = new OutboxRelay(state.storage, { clock: systemClock });
      let joined: Promise<unknown> | null = null;
      const queue = fakeQueue(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (joined) return;
        // A commit lands mid-send and its own drain joins the running one.
        seed(state.storage, 150, 10);
        joined = relay.drain(queue);
      });
      const [first, second] = await Promise.all([relay.drain(queue), relay.drain(queue)]);
      expect(first).toEqual({ ok: true, sent: 160, remaining: 0 });
      expect(second).toBe(first);
      expect(await joined).toBe(first);
      expect(ids(queue.batches)).toEqual(expectedIds(160));
      expect(pending(state.storage)).toBe(0);
    });
  });
});

describe("TenantDirectory relay", () => {
  afterEach(() => vi.restoreAllMocks());

  it("a failing EVENTS queue does not fail the request; the events wait and the alarm delivers them", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const sendBatch = vi.spyOn(env.EVENTS, "sendBatch").mockRejectedValue(new Error("Queue sendBatch failed"));
    const t = await newTenant();
    const stub = env.TENANT_DIRECTORY.getByName(t.id);
    const attempts = () =>
      runInDurableObject(stub, (_: TenantDirectory, s) =>
        new OutboxRelay(s.storage, { clock: systemClock }).attempts(),
      );
    const alarm = () => runInDurableObject(stub, (_: TenantDirectory, s) => s.storage.getAlarm());
    await until("the queue tried", async () => (await attempts()) > 0);
    expect(await attempts()).toBeGreaterThan(0);
    expect((await stub.outbox(100)).length).toBe(2);
    expect(await alarm()).toEqual(expect.any(Number));
    // This directory's line: other objects of the shared workerd send on EVENTS too, and fail alike meanwhile.
    const line = errors.mock.calls
      .map(([l]) => String(l))
      .find((l) => l.includes("outbox drain failed") && l.includes(stub.id.toString()));
    expect(JSON.parse(line ?? "{}")).toMatchObject({
      level: "error",
      durable_object: "TenantDirectory",
      id: stub.id.toString(),
    });

    sendBatch.mockRestore();
    const delivered = vi.spyOn(env.EVENTS, "sendBatch");
    // Runs the pending retry now (unless the backoff alarm already fired on its own in between).
    await runDurableObjectAlarm(stub);
    await until(
      "the outbox emptied and no alarm left",
      async () => (await stub.outbox(100)).length === 0 && (await alarm()) === null,
    );
    const types = delivered.mock.calls.flatMap(([messages]) =>
      [...messages].flatMap((m) => eventsOf(m.body) as OutgoingEvent[]).map((e) => e.type),
    );
    expect(types).toEqual(["tenants.tenant.created", "identity.key.created"]);
    expect(await stub.outbox(100)).toEqual([]);
    expect(await alarm()).toBeNull();
  });
});
