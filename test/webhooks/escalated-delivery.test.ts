// An actor's pause sends `actor.escalated` to its tenant's stream, and the kernel declares it so a
// webhook filter may name it: end to end, an endpoint following it is sent the pause of a real
// actor (the test-only TimerlessProbe, failing until its supervision pauses it).
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_SUPERVISION } from "../../src/kernel/actors/supervision";
import { rejection } from "../actors/rejection";
import { call, newTenant } from "../identity/helpers";
import { recordingReceiver } from "./receiver";

afterEach(() => vi.restoreAllMocks());

describe("webhooks: an endpoint following actor.escalated", () => {
  it("is sent the escalation when a tenant's actor pauses", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    const t = await newTenant("wh-escalated");
    const path = `/escalated/${crypto.randomUUID()}`;
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: `http://127.0.0.1:8810${path}`, events: ["actor.escalated"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const receiver = recordingReceiver(path);
    try {
      const actor = env.TIMERLESS_PROBE.getByName(`escalated-${t.id}`);
      await actor.escalateVia(`${t.id}/timerless/1`);
      for (let i = 0; i < DEFAULT_SUPERVISION.maxFailures; i++) await rejection(actor.fail());
      for (let i = 0; i < 400 && receiver.received.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(receiver.received).toHaveLength(1);
      const body = JSON.parse(receiver.received[0] ?? "{}") as Record<string, unknown>;
      expect(body).toMatchObject({
        type: "actor.escalated",
        data: { actor: "TimerlessProbe", handler: "fail", restarts: 1, error: "Error" },
      });
    } finally {
      receiver.restore();
    }
  });
});
