// A delivery already past its checks (the endpoint's config read, the tenant's bulkhead
// asked) when its tenant's erasure empties the endpoint actor must not reach the receiver:
// the signing secret may still open for up to 30 s in an isolate that cached the tenant's
// key seed before the shred, so the only guard left is the actor's own tombstone, read
// right before the POST. Nothing of the attempt (a log row, a retry timer) stays behind.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WebhookEndpoint } from "../../src/index";
import { registry } from "../../src/modules/webhooks/contract";
import { call, newTenant } from "../identity/helpers";
import { until } from "../kernel/outbox-events";
import { infoLines } from "../log-lines";
import { recordingReceiver } from "./receiver";

afterEach(() => {
  vi.restoreAllMocks();
});

type Stub = Pick<ReturnType<typeof registry>, "acquire" | "release" | "disabled">;

describe("webhooks: a delivery in flight when its tenant is erased", () => {
  it("the recorder sees a live tenant's delivery (so its empty list below means nothing was sent)", async () => {
    const t = await newTenant("wh-inflight-live");
    const path = `/erased-in-flight/${crypto.randomUUID()}`;
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: `http://127.0.0.1:8810${path}`, events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const receiver = recordingReceiver(path);
    try {
      const sent = await call(`/api/v1/admin/webhooks/${String(created.body.id)}/test`, {
        method: "POST",
        token: t.adminKey,
      });
      expect(sent.status, JSON.stringify(sent.body)).toBe(202);
      await until("the live tenant's delivery recorded", () => receiver.received.length > 0);
      expect(receiver.received).toHaveLength(1);
    } finally {
      receiver.restore();
    }
  });

  it("sends nothing to the receiver and leaves no log row or retry when the erasure lands before the attempt", async () => {
    const t = await newTenant("wh-inflight");
    const path = `/erased-in-flight/${crypto.randomUUID()}`;
    // Loopback is an allowed target in the test environment; nothing listens there but the recorder.
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: `http://127.0.0.1:8810${path}`, events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const endpointId = String(created.body.id);
    const stub = env.WEBHOOK_ENDPOINT.getByName(`${t.id}/${endpointId}`);

    const receiver = recordingReceiver(path);
    let erasedMidway = false;
    let released = false;
    try {
      // The erasure lands while the delivery awaits its bulkhead permit, past the config check:
      // the registry is closed, then the endpoint actor emptied, as webhooksErasure does.
      await runInDurableObject(stub, (instance: InstanceType<typeof WebhookEndpoint>) => {
        const bulkheadThatWaits = {
          getByName(name: string): Stub {
            const real = registry(env, name);
            return {
              acquire: async (args) => {
                if (!erasedMidway) {
                  await real.beginErasure({ tenant_id: t.id });
                  await instance.eraseAll({ tenant_id: t.id });
                  erasedMidway = true;
                }
                return real.acquire(args);
              },
              release: async (args) => {
                const reply = await real.release(args);
                released = true;
                return reply;
              },
              disabled: (args) => real.disabled(args),
            };
          },
        };
        Object.defineProperty(instance, "env", {
          value: { ...env, LOG_LEVEL: "info", WEBHOOK_REGISTRY: bulkheadThatWaits },
        });
      });

      let messageId = "";
      const lines = await infoLines("webhook delivery dropped: its tenant was erased", async () => {
        const sent = await call(`/api/v1/admin/webhooks/${endpointId}/test`, { method: "POST", token: t.adminKey });
        expect(sent.status, JSON.stringify(sent.body)).toBe(202);
        messageId = String(sent.body.message_id);
        await until("the delivery's permit released", () => erasedMidway && released);
        // The alarm ends after the release: wait for it to have nothing left to run.
        await until("the endpoint's alarm cleared", () =>
          runInDurableObject(stub, async (_, state) => (await state.storage.getAlarm()) === null),
        );
      });
      expect(lines).toEqual([
        expect.objectContaining({ tenant_id: t.id, endpoint_id: endpointId, message_id: messageId }),
      ]);

      expect(receiver.received).toEqual([]);
      const left = await runInDurableObject(stub, (_, state) => ({
        deliveries: state.storage.sql.exec("select count(*) as n from deliveries").one().n,
        attempts: state.storage.sql.exec("select count(*) as n from attempts").one().n,
        timers: state.storage.sql.exec("select count(*) as n from actor_timers").one().n,
      }));
      expect(left).toEqual({ deliveries: 0, attempts: 0, timers: 0 });
    } finally {
      receiver.restore();
    }
  });
});
