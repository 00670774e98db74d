// The writers' inline pass when a subscription fails: the queue applies the events, and the
// warning names what failed without the data the failing query carried.
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it, vi } from "vitest";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import type { Envelope } from "../../src/kernel/events/envelope";
import { InlineProjector } from "../../src/kernel/events/inline";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { manualTime } from "../../src/kernel/resilience/sleep";

const event = (id: string): Envelope => ({
  id,
  type: "failing.thing.happened",
  tenant_id: "t-inline-failure",
  stream: "t-inline-failure/thing/one",
  version: 1,
  occurred_at: "2026-06-01T00:00:00.000Z",
  actor: { kind: "system", id: null },
  request_id: null,
  data: {},
});

/** A module whose inline subscription runs a query SQLite refuses, with `bound` bound to it. */
function failingModule(bound: string): ModuleDef {
  return {
    name: "failing",
    version: "1.0.0",
    events: {
      subscribes: [
        {
          name: "things",
          types: ["failing.thing.happened"],
          inline: true,
          async handleBatch() {
            await drizzle(env.DB).run(sql`select json(${bound}) as j`);
            return { writes: [] };
          },
        },
      ],
    },
  };
}

describe("the inline pass, failing", () => {
  it("warns with the failed statement, never the values bound to it", async () => {
    // The warning logged the error's message as it was: drizzle's "Failed query: …\nparams: <every
    // value>", a read-model row's data (an address, a URL with its token), past errorFields.
    const bound = `inline-secret-${crypto.randomUUID()}`;
    const time = manualTime("2026-06-01T00:00:00Z");
    const inline = new InlineProjector(
      { modules: [failingModule(bound)], needs: KERNEL_NEEDS, clock: time.clock },
      env,
      { sleeper: time.sleeper },
    );
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.push(line));
    try {
      await inline.push([event(`e-${crypto.randomUUID()}`)]);
    } finally {
      vi.restoreAllMocks();
    }
    const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warned.map((l) => [l.msg, l.subscriber])).toEqual([
      ["inline projection failed; the queue will apply it", "failing:things"],
    ]);
    expect(String(warned[0]?.error_message)).toContain("select json(?) as j");
    expect(lines.join("\n")).not.toContain(bound);
  });
});
