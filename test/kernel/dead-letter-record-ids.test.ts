// A dismissal is recorded once however many times it is sent: two admins dismissing one letter
// at the same moment both find it and both send a record, and a dismissal whose delete failed
// after its record went out sends it again when retried. Its record's id is the letter's, so the
// audit log (one entry per event id) keeps one. A replay may be done any number of times: each
// is a record of its own.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import type { AppEnv } from "../../src/kernel/env";
import { parseEnvelope } from "../../src/kernel/events/envelope";
import { type DeadLetterAction, deadLetterEvent } from "../../src/kernel/queues/dead-letter-audit";

/** The ids of the records `action` on one letter gets when it is sent twice, in two requests. */
async function idsOf(action: DeadLetterAction): Promise<string[]> {
  const app = new Hono<AppEnv>();
  app.get("/", (c) => {
    c.set("clock", manualClock("2026-12-05T12:00:00.000Z"));
    c.set("config", { platformRootKey: undefined } as AppEnv["Variables"]["config"]);
    c.set("principal", { kind: "api_key", id: "key-1" } as AppEnv["Variables"]["principal"]);
    // As long as a letter's id may be (a planted or older one: dl_<uuid>): the record must still parse.
    const event = deadLetterEvent(c, action, { id: `dl_${"0".repeat(36)}`, tenant_id: "t-1", facts: {} });
    return c.text(event ? parseEnvelope(event).id : "none");
  });
  return [await (await app.request("/")).text(), await (await app.request("/")).text()];
}

describe("dead-letter audit records", () => {
  it("give a dismissal one id per letter, so it is recorded once however often it is sent", async () => {
    for (const action of ["events.dead_letter.dismissed", "mail.dead_letter.dismissed"] as const) {
      const [first, second] = await idsOf(action);
      expect(first).not.toBe("none");
      expect(second).toBe(first);
    }
    // Each kind of letter has its own: an event letter and a mail letter may not share a record.
    expect((await idsOf("events.dead_letter.dismissed"))[0]).not.toBe((await idsOf("mail.dead_letter.dismissed"))[0]);
  });

  it("give each replay an id of its own: a letter replayed twice was replayed twice", async () => {
    const [first, second] = await idsOf("events.dead_letter.replayed");
    expect(first).not.toBe(second);
  });
});
