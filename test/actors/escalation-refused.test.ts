import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_SUPERVISION } from "../../src/kernel/actors/supervision";
import { rejection } from "./rejection";

let n = 0;
const logged = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

// The pause's `actor.escalated` is emitted as any event is: to an address of an aggregate's kind
// (`<tenant>/post/…` beside the blog's `post`) it throws StreamOfAggregate, on the pause path.
describe("an actor whose escalation address is of an aggregate's kind", () => {
  afterEach(() => vi.restoreAllMocks());

  it("still pauses, logs the refused escalation loudly by its stream, and restarts after the pause", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const stub = env.TIMERLESS_PROBE.getByName(`escalation-refused-${++n}`);
    await stub.escalateVia("t_timerless/post/1");
    for (let i = 0; i < DEFAULT_SUPERVISION.maxFailures; i++)
      expect((await rejection(stub.fail())).message).toMatch(/probe failure/);

    const state = await stub.supervisionNow();
    expect(state.restarts).toBe(1);
    expect(state.pausedUntil).not.toBeNull();
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

    await stub.advance(DEFAULT_SUPERVISION.backoff.baseMs);
    expect(await stub.touch()).toEqual({ ok: true });
  });

  it("escalates to a stream of its own kind as before", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const stub = env.TIMERLESS_PROBE.getByName(`escalation-refused-${++n}`);
    await stub.escalateVia("t_timerless/timerless/1");
    for (let i = 0; i < DEFAULT_SUPERVISION.maxFailures; i++) await rejection(stub.fail());
    expect((await stub.supervisionNow()).restarts).toBe(1);
    expect(await stub.streams()).toEqual([{ stream: "t_timerless/timerless/1", version: 1 }]);
  });
});
