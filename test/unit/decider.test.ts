import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type AnyDecider,
  accept,
  type CommandOf,
  type Decider,
  type EventOf,
  fold,
  handle,
  reject,
  type StateOf,
} from "../../src/kernel/events/decider";
import { given, SPEC_CONTEXT } from "../../src/kernel/events/decider-spec";

// A toy aggregate: a counter that refuses to add nothing and treats a reset at zero as a no-op.
const CounterCommand = z.discriminatedUnion("type", [
  z.object({ type: z.literal("add"), by: z.number().int() }),
  z.object({ type: z.literal("reset") }),
]);
const CounterEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("counter.added"), data: z.object({ by: z.number().int().positive(), at: z.string() }) }),
  z.object({ type: z.literal("counter.reset"), data: z.object({}) }),
]);
type Command = z.infer<typeof CounterCommand>;
type Event = z.infer<typeof CounterEvent>;

const counter: Decider<Command, Event, number> = {
  type: "counter",
  commandSchema: CounterCommand,
  eventSchema: CounterEvent,
  stateSchema: z.number().int(),
  initialState: 0,
  decide(command, state, ctx) {
    if (command.type === "reset") return state === 0 ? accept() : accept({ type: "counter.reset", data: {} });
    if (command.by === 0) return reject("nothing_to_add", "add needs a non-zero amount");
    // Deliberately lets negative amounts through, so the spec's eventSchema check has something to catch.
    return accept({ type: "counter.added", data: { by: command.by, at: ctx.now } });
  },
  evolve(state, event) {
    return event.type === "counter.added" ? state + event.data.by : 0;
  },
};

const added = (by: number, at = SPEC_CONTEXT.now): Event => ({ type: "counter.added", data: { by, at } });

describe("accept and reject", () => {
  it("build decisions", () => {
    expect(accept(added(1), added(2))).toEqual({ ok: true, events: [added(1), added(2)] });
    expect(accept()).toEqual({ ok: true, events: [] });
    expect(reject("nothing_to_add", "why")).toEqual({ ok: false, error: { code: "nothing_to_add", message: "why" } });
  });
});

describe("fold", () => {
  it("evolves from the initial state, or from a given one", () => {
    expect(fold(counter, [])).toBe(0);
    expect(fold(counter, [added(2), added(3)])).toBe(5);
    expect(fold(counter, [added(2)], 10)).toBe(12);
    expect(fold(counter, [added(2), { type: "counter.reset", data: {} }, added(4)])).toBe(4);
  });
});

describe("handle", () => {
  it("returns the events and the state after them", () => {
    expect(handle(counter, 5, { type: "add", by: 2 }, SPEC_CONTEXT)).toEqual({
      ok: true,
      events: [added(2)],
      state: 7,
    });
  });

  it("keeps the state on a no-op and says nothing else on a rejection", () => {
    expect(handle(counter, 0, { type: "reset" }, SPEC_CONTEXT)).toEqual({ ok: true, events: [], state: 0 });
    expect(handle(counter, 5, { type: "add", by: 0 }, SPEC_CONTEXT)).toEqual({
      ok: false,
      error: { code: "nothing_to_add", message: "add needs a non-zero amount" },
    });
  });

  it("hosts any decider generically", () => {
    const hosted: AnyDecider = counter;
    const command: CommandOf<typeof counter> = { type: "add", by: 1 };
    const event: EventOf<typeof counter> = added(1);
    const state: StateOf<typeof counter> = 1;
    expect(hosted.type).toBe("counter");
    expect(hosted.commandSchema.safeParse(command).success).toBe(true);
    expect(hosted.eventSchema.safeParse(event).success).toBe(true);
    expect(hosted.evolve(hosted.initialState, event)).toBe(state);
  });
});

describe("given/when/then", () => {
  it("returns the events and the state after them", () => {
    const ctx = { now: "2026-05-01T12:00:00.000Z", actor: { kind: "user" as const, id: "u1" } };
    const outcome = given(counter, [added(2)])
      .when({ type: "add", by: 3 }, ctx)
      .then([added(3, ctx.now)]);
    expect(outcome).toEqual({ events: [added(3, ctx.now)], state: 5 });
  });

  it("folds the given events and defaults the context", () => {
    expect(given(counter, [added(2), added(2)]).state).toBe(4);
    expect(
      given(counter)
        .when({ type: "add", by: 1 })
        .then([added(1)]).state,
    ).toBe(1);
  });

  it("accepts an empty expectation for a no-op", () => {
    expect(given(counter).when({ type: "reset" }).then([]).events).toEqual([]);
  });

  it("compares events as JSON, ignoring key order", () => {
    given(counter)
      .when({ type: "add", by: 1 })
      .then([{ data: { at: SPEC_CONTEXT.now, by: 1 }, type: "counter.added" }]);
  });

  it("throws a line diff when the events differ", () => {
    const step = given(counter).when({ type: "add", by: 1 });
    expect(() => step.then([added(2)])).toThrow(/events differ for "add"/);
    expect(() => step.then([added(2)])).toThrow(/^- {7}"by": 2$/m);
    expect(() => step.then([added(2)])).toThrow(/^\+ {7}"by": 1$/m);
    expect(() => step.then([added(1), added(1)])).toThrow(/^- {3}\{$/m);
  });

  it("throws when events were expected but the command was rejected", () => {
    expect(() =>
      given(counter)
        .when({ type: "add", by: 0 })
        .then([added(1)]),
    ).toThrow(/"add" was rejected with nothing_to_add: add needs a non-zero amount/);
  });

  it("checks the emitted events against the decider's eventSchema", () => {
    expect(() =>
      given(counter)
        .when({ type: "add", by: -1 })
        .then([added(-1)]),
    ).toThrow(/event 0 \(counter\.added\) fails eventSchema\n {2}data\.by:/);
  });

  it("names a key holding a dot as one key in an eventSchema issue's path", () => {
    // Policy names are `<module>.<name>`: joined with dots, `limits.tickets.open.limit` would read as
    // four nested keys, not the policy "tickets.open".
    const Limits = z.object({ limits: z.record(z.string(), z.object({ limit: z.number().int().positive() })) });
    const limits: Decider<
      { type: "set" } & z.infer<typeof Limits>,
      { type: "limits.set"; data: z.infer<typeof Limits> },
      null
    > = {
      type: "limits",
      commandSchema: z.object({ type: z.literal("set") }).extend(Limits.shape),
      eventSchema: z.object({ type: z.literal("limits.set"), data: Limits }),
      stateSchema: z.null(),
      initialState: null,
      decide: (command) => accept({ type: "limits.set", data: { limits: command.limits } }),
      evolve: (state) => state,
    };
    const event = { type: "limits.set" as const, data: { limits: { "tickets.open": { limit: 0 } } } };
    expect(() => given(limits).when({ type: "set", limits: event.data.limits }).then([event])).toThrow(
      /fails eventSchema\n {2}data\.limits\["tickets\.open"\]\.limit: /,
    );
  });

  it("thenError returns the error for the expected code", () => {
    expect(given(counter).when({ type: "add", by: 0 }).thenError("nothing_to_add")).toEqual({
      code: "nothing_to_add",
      message: "add needs a non-zero amount",
    });
  });

  it("thenError throws on another code, and on acceptance with the events shown", () => {
    expect(() => given(counter).when({ type: "add", by: 0 }).thenError("too_big")).toThrow(
      /expected "add" to be rejected with too_big, got nothing_to_add/,
    );
    expect(() => given(counter).when({ type: "add", by: 4 }).thenError("nothing_to_add")).toThrow(
      /but it was accepted with 1 event\(s\):\n\[\n {2}\{\n {4}"data"/,
    );
  });

  it("fails clearly when the when step is awaited by mistake", async () => {
    const step = given(counter).when({ type: "add", by: 1 });
    await expect(Promise.resolve(step)).rejects.toThrow(/the result of when\(\) was awaited/);
  });

  it("does not leak state between whens of one given", () => {
    const start = given(counter, [added(1)]);
    start.when({ type: "add", by: 5 }).then([added(5)]);
    expect(start.when({ type: "add", by: 1 }).then([added(1)]).state).toBe(2);
  });
});
