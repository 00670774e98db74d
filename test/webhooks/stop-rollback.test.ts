// An endpoint actor that gives a delivery up or stops delivering counts and logs it (an operator's
// lines: "webhook delivery given up", "webhook endpoint disabled"). It did so inside the transaction
// that records it: one that rolled back (a full disk) had counted and logged what storage never
// kept, and the timer's retry, which kept it, counted and logged it again.
//
// Each test waits for the actor's own alarm (the retry after the rollback is due within two
// seconds) and never runs it by hand: runDurableObjectAlarm reads the alarm, deletes it and calls
// alarm() on the instance from a request, beside the runtime's own alarm. Read just as the
// runtime fired it, the delete comes too late and two alarm() calls run at once: both try the
// same due delivery, and the one recorded second finds the row the first gave up and gives it
// up again (two "given up" lines, seen once in a full run). The runtime never runs two alarms
// of an object at once, and no RPC message runs a delivery: the race was the test's own.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { destroyTenantKeys } from "../../src/modules/identity/key-material";
import { call, newTenant } from "../identity/helpers";
import { warningLines } from "../log-lines";

const STOPPED_KEY = "endpoint.stopped_version";

/** Makes the endpoint's transaction that stops it fail as a full disk would, after its writes, once. */
function failTheStop(endpoint: DurableObjectStub) {
  return runInDurableObject(endpoint, (_, state) => {
    const real = state.storage.transactionSync.bind(state.storage);
    state.storage.transactionSync = <T>(fn: () => T): T =>
      real(() => {
        const result = fn();
        if (state.storage.kv.get(STOPPED_KEY) !== undefined) {
          state.storage.transactionSync = real;
          throw new Error("SQLITE_FULL: database or disk is full");
        }
        return result;
      });
  });
}

/**
 * The lines with `msg` about `tenantId`'s objects, and a description of every such line for a
 * failure's message. The suite's files share one runtime, so another file's endpoint whose timer
 * comes due meanwhile may say the same things of its own tenant.
 */
function said(lines: Record<string, unknown>[], msg: string, tenantId: string) {
  const all = lines.filter((l) => l.msg === msg);
  return [all.filter((l) => l.tenant_id === tenantId), JSON.stringify(all)] as const;
}

describe("an endpoint actor's give-up or stop whose transaction rolls back", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is logged once, when its retry keeps it", async () => {
    const lines = warningLines();
    const t = await newTenant();
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "http://127.0.0.1:9/hook", events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body.id);
    const endpoint = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${id}`);
    await failTheStop(endpoint);
    // Its secret can no longer be opened: the next delivery stops the endpoint.
    await destroyTenantKeys(env, t.id, {
      now: new Date().toISOString(),
      actor: { kind: "platform", id: null },
      requestId: null,
    });
    await call(`/api/v1/admin/webhooks/${id}/test`, { method: "POST", token: t.adminKey });
    await vi.waitFor(
      async () => {
        const one = await call(`/api/v1/admin/webhooks/${id}`, { token: t.adminKey });
        expect(one.body).toMatchObject({ enabled: false, disabled_reason: "secret_unreadable" });
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(...said(lines, "actor handler failed", t.id)).toHaveLength(1);
    expect(...said(lines, "webhook endpoint disabled", t.id)).toHaveLength(1);
  });

  it("counts and logs a delivery given up once, when its retry keeps it", async () => {
    const lines = warningLines();
    const t = await newTenant();
    const path = `/gone/${crypto.randomUUID()}`;
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: `http://127.0.0.1:8810${path}`, events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body.id);
    const endpoint = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${id}`);
    await failTheStop(endpoint);
    // The receiver answers 410 Gone: the delivery is given up and the endpoint stopped at once.
    const original = globalThis.fetch;
    globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      return new URL(request.url).pathname === path ? new Response("gone", { status: 410 }) : original(input, init);
    };
    try {
      await call(`/api/v1/admin/webhooks/${id}/test`, { method: "POST", token: t.adminKey });
      await vi.waitFor(
        async () => {
          const one = await call(`/api/v1/admin/webhooks/${id}`, { token: t.adminKey });
          expect(one.body).toMatchObject({ enabled: false, disabled_reason: "gone" });
        },
        { timeout: 10_000, interval: 50 },
      );
    } finally {
      globalThis.fetch = original;
    }
    expect(...said(lines, "actor handler failed", t.id)).toHaveLength(1);
    expect(...said(lines, "webhook delivery given up", t.id)).toHaveLength(1);
    expect(...said(lines, "webhook endpoint disabled", t.id)).toHaveLength(1);
  });
});
