import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type Envelope,
  MalformedEvent,
  parseEnvelope,
  parseEvent,
  parseStoredEvent,
} from "../../src/kernel/events/envelope";

// A malformed event's issues (the dead letter's record, the operator's log line) name the field as
// a 400's errors[].path does (fieldPath): a key holding a dot is one key in brackets, not two.
const Settings = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("tenants.settings.changed"),
    data: z.object({ rate_limits: z.record(z.string(), z.object({ limit: z.number() })) }),
  }),
]);

const envelope: Envelope = {
  id: "evt-1",
  type: "tenants.settings.changed",
  tenant_id: "t1",
  stream: "tenant/t1",
  version: 3,
  occurred_at: "2026-12-07T00:00:00.000Z",
  actor: { kind: "user", id: "u1" },
  request_id: null,
  data: { rate_limits: { "tickets.open": { limit: "many" } } },
};

const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe("a malformed event's field paths", () => {
  it("bracket a data key holding a dot", () => {
    const error = thrown(() => parseEvent(Settings, envelope));
    expect(error).toBeInstanceOf(MalformedEvent);
    expect((error as MalformedEvent).issues.map((i) => i.path)).toEqual(['data.rate_limits["tickets.open"].limit']);
  });

  it("bracket an envelope's audit fact named with a dot, and keep plain keys dotted", () => {
    const error = thrown(() => parseEnvelope({ ...envelope, version: 0, audit: { "plan.name": { nested: true } } }));
    expect(error).toBeInstanceOf(MalformedEvent);
    expect((error as MalformedEvent).issues.map((i) => i.path).sort()).toEqual(['audit["plan.name"]', "version"]);
  });

  it("read the same in a stored event's error", () => {
    const error = thrown(() => parseStoredEvent(Settings, envelope));
    expect(String(error)).toContain('(data.rate_limits["tickets.open"].limit: ');
  });
});
