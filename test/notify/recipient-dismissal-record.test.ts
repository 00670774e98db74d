// A deletion's dismissal of the mail dead letters to its address is recorded in the tenant's audit
// log once per letter: the record's id is the letter's, and the first record wins. So no record
// may leave before its letter is dismissed: one sent ahead of a write that then fails would name
// that attempt's actor for the dismissal the hourly retry makes later (docs/notifications.md).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/kernel/clock";
import { recipientDigest } from "../../src/kernel/notify/recipient-digest";
import { dismissMailToDigest } from "../../src/kernel/notify/recipient-dismissal";
import { testRuntime } from "../helpers";
import { call, newTenant, rootKey } from "../identity/helpers";
import { mailLetterOf } from "./helpers";

/** The runtime of one run, over a D1 refusing writes to the dead letters while `down`, and a queue that keeps what is sent. */
function runtimeWith(outage: { down: boolean }, clock?: Clock) {
  const sent: unknown[] = [];
  const DB = new Proxy(env.DB, {
    get(target, name) {
      if (name === "prepare") {
        return (query: string) => {
          if (outage.down && /^(delete from|update) "mail_dead_letters"/.test(query)) {
            throw new Error("D1_ERROR: mail_dead_letters unavailable");
          }
          return target.prepare(query);
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const EVENTS = {
    send: async (body: unknown) => void sent.push(body),
    sendBatch: async (messages: { body: unknown }[]) => void sent.push(...messages.map((m) => m.body)),
  } as unknown as Queue;
  const runtime = testRuntime(clock);
  return { runtime: { ...runtime, env: { ...runtime.env, DB, EVENTS } }, sent };
}

describe("the dismissal of a deleted recipient's mail dead letters", () => {
  it("sends no record for a letter whose dismissal failed, and one for each letter dismissed", async () => {
    const t = await newTenant("dismissal-record");
    const to = `gone.${crypto.randomUUID().slice(0, 8)}@example.com`;
    const letter = await mailLetterOf(call, rootKey(), t.id, to);
    const digest = recipientDigest(testRuntime().config.ipHashKey, t.id, to);
    if (!digest) throw new Error("the test env has no digest key");

    const outage = { down: true };
    const failing = runtimeWith(outage);
    await expect(dismissMailToDigest(failing.runtime, t.id, digest, "tenants/purge-tokens")).rejects.toThrow(
      /unavailable/,
    );
    expect(failing.sent).toEqual([]);

    outage.down = false;
    // A second on at each reading: the late-mail hold reads it first, the record once the letters are found.
    const readings: string[] = [];
    const stepping: Clock = {
      now: () => {
        const at = new Date(Date.UTC(2031, 4, 1, 9, 0, readings.length));
        readings.push(at.toISOString());
        return at;
      },
    };
    const working = runtimeWith(outage, stepping);
    expect(await dismissMailToDigest(working.runtime, t.id, digest, "tenants/purge-tokens")).toBe(1);
    expect(working.sent).toEqual([
      expect.objectContaining({
        type: "mail.dead_letter.dismissed",
        tenant_id: t.id,
        actor: { kind: "system", id: "tenants/purge-tokens" },
        request_id: null,
        ip_hash: null,
        occurred_at: "2031-05-01T09:00:01.000Z",
        data: expect.objectContaining({ dead_letter_id: letter.id }),
      }),
    ]);
    expect(readings).toEqual(["2031-05-01T09:00:00.000Z", "2031-05-01T09:00:01.000Z"]);
  });
});
