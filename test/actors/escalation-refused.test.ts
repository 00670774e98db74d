import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_SUPERVISION } from "../../src/kernel/actors/supervision";
import type { ProbeActor } from "./probe-actor";
import { rejection } from "./rejection";
import type { TimerlessProbe } from "./timerless-probe";

let n = 0;
const logged = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const probe = () => env.TIMERLESS_PROBE.getByName(`escalation-refused-${++n}`);

/** Fails the probe's messages until its supervision pauses it (`failures` of them: the window's count). */
async function pause(stub: DurableObjectStub<TimerlessProbe>, failures = DEFAULT_SUPERVISION.maxFailures) {
  for (let i = 0; i < failures; i++) expect((await rejection(stub.fail())).message).toMatch(/probe failure/);
  const state = await stub.supervisionNow();
  expect(state.restarts).toBe(1);
  expect(state.pausedUntil).not.toBeNull();
}

// The pause's `actor.escalated` goes to the actor's escalation address. One of an aggregate's kind
// (`<tenant>/post/…` beside the blog's `post`) was noticed only at the first pause, whose event was
// then refused (StreamOfAggregate) and lost: it is checked as soon as the actor has an address.
describe("an actor whose escalation address is of an aggregate's kind", () => {
  afterEach(() => vi.restoreAllMocks());

  it("fails the message that gives it that address, naming the stream, and commits nothing of it", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const stub = probe();
    const error = await rejection(stub.escalateVia("t_timerless/post/1"));
    expect(error.message).toBe(
      'StreamOfAggregate: TimerlessProbe\'s escalationAddress() names stream "t_timerless/post/1", whose kind "post" ' +
        "is an aggregate type of module blog: an actor's stream kind is never an aggregate's, name its streams otherwise",
    );
    // Rolled back: no address was kept, so a pause now escalates nowhere (and is logged without one).
    expect(await stub.address()).toBeNull();
    // An address of its own kind is taken, and a pause escalates there.
    expect(await stub.escalateVia("t_timerless/timerless/1")).toEqual({ ok: true });
    // The refused message was a failure, as any throw is: one fewer pauses it.
    await pause(stub, DEFAULT_SUPERVISION.maxFailures - 1);
    expect(await stub.streams()).toEqual([{ stream: "t_timerless/timerless/1", version: 1 }]);
  });

  // A timer handler writes through transact: an address its write gives the actor is checked there too.
  it("fails the transact that gives it that address, as a message does", async () => {
    const stub = env.PROBE_ACTOR.getByName(`escalation-refused-${++n}`);
    const thrown = await runInDurableObject(stub, (actor: ProbeActor) => {
      Object.assign(actor, { escalationAddress: () => ({ tenantId: "t_probe", stream: "t_probe/post/1" }) });
      try {
        actor.transactNow(() => null);
        return null;
      } catch (error) {
        return error instanceof Error ? error.name : String(error);
      }
    });
    expect(thrown).toBe("StreamOfAggregate");
  });

  // An address the checks could not see (written outside any message, before any that succeeded):
  // the pause still refuses it, and the first message that succeeds after the pause fails on it.
  it("met first at a pause, still pauses, logs the refusal by its stream, and fails the next message", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const stub = probe();
    await runInDurableObject(stub, (_: TimerlessProbe, state) =>
      state.storage.kv.put("probe.escalation", "t_timerless/post/1"),
    );
    await pause(stub);
    expect((await rejection(stub.touch())).message).toMatch(/^ActorBackingOff: /);
    expect(await stub.streams()).toEqual([]);

    const errors = logged(lines).filter((l) => l.actor === "TimerlessProbe");
    // Not the storage failure it was logged as: the failure and the pause were recorded.
    expect(errors.map((l) => l.msg)).not.toContain("actor failure could not be recorded");
    const refused = errors.filter((l) => l.msg === "actor escalation refused; paused without it");
    expect(
      refused.map(({ level, tenant_id, stream, error_name }) => ({ level, tenant_id, stream, error_name })),
    ).toEqual([
      { level: "error", tenant_id: "t_timerless", stream: "t_timerless/post/1", error_name: "StreamOfAggregate" },
    ]);

    // Restarted after the pause (not ActorBackingOff), the message's end meets the address.
    await stub.advance(DEFAULT_SUPERVISION.backoff.baseMs);
    expect((await rejection(stub.touch())).message).toMatch(
      /^StreamOfAggregate: TimerlessProbe's escalationAddress\(\)/,
    );
  });
});

// The escalation's append failing for another reason (storage) was logged as a refusal too.
describe("an actor whose escalation cannot be appended", () => {
  afterEach(() => vi.restoreAllMocks());

  it("still pauses, and logs that the append failed, not that it was refused", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const stub = probe();
    await stub.escalateVia("t_timerless/timerless/1");
    // The pause's transaction, the one after the failing message's own, fails as a full disk would.
    await runInDurableObject(stub, (_: TimerlessProbe, state) => {
      const real = state.storage.transactionSync.bind(state.storage);
      let calls = 0;
      state.storage.transactionSync = <T>(fn: () => T): T => {
        calls += 1;
        if (calls === DEFAULT_SUPERVISION.maxFailures + 1) throw new Error("SQLITE_FULL: database or disk is full");
        return real(fn);
      };
    });
    await pause(stub);
    expect(await stub.streams()).toEqual([]);

    const errors = logged(lines).filter((l) => l.actor === "TimerlessProbe");
    expect(errors.map((l) => l.msg)).not.toContain("actor escalation refused; paused without it");
    const failed = errors.filter((l) => l.msg === "actor escalation could not be appended; paused without it");
    expect(
      failed.map(({ level, tenant_id, stream, error_name, error_message }) => ({
        level,
        tenant_id,
        stream,
        error_name,
        error_message,
      })),
    ).toEqual([
      {
        level: "error",
        tenant_id: "t_timerless",
        stream: "t_timerless/timerless/1",
        error_name: "Error",
        error_message: "SQLITE_FULL: database or disk is full",
      },
    ]);
  });
});
