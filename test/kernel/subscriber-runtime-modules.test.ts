// A subscriber gets the registered modules on its runtime, as a job does, so it reads another
// module's records through the kernel (`findTenant(runtime, id)`, kernel/auth/tenant-registry.ts)
// instead of importing that module's internals (the webhooks module read the tenants module's
// store for a tenant's name). Without `modules` the kernel's lookup had nothing to look in.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { findTenant } from "../../src/kernel/auth/tenant-registry";
import { systemClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS } from "../../src/kernel/config";
import { createQueueHandler } from "../../src/kernel/events/queue";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";
import { testRuntime } from "../helpers";
import { newTenant } from "../identity/helpers";

const seen: (string | null)[] = [];
const probe: ModuleDef = {
  name: "probe",
  version: "1.0.0",
  events: {
    subscribes: [
      {
        name: "tenant-name",
        types: ["probe.thing.happened"],
        async handle(event, runtime) {
          seen.push((await findTenant(runtime, event.tenant_id))?.name ?? null);
        },
      },
    ],
  },
};
const tenantsModule = modules.filter((m) => m.name === "tenants");

const envelope = (tenantId: string) => ({
  id: `evt-${crypto.randomUUID()}`,
  type: "probe.thing.happened",
  tenant_id: tenantId,
  stream: `${tenantId}/thing/t1`,
  version: 1,
  occurred_at: "2026-07-01T08:00:00.000Z",
  actor: { kind: "system", id: null },
  request_id: null,
  data: {},
});

describe("a subscriber's runtime", () => {
  it("carries the registered modules: findTenant reaches the tenant registry from the queue consumer", async () => {
    expect(tenantsModule).toHaveLength(1);
    const t = await newTenant("subrt");
    seen.length = 0;
    const handler = createQueueHandler({ modules: [...tenantsModule, probe], needs: KERNEL_NEEDS, clock: systemClock });
    const batch = createMessageBatch("plinth-events", [
      { id: "msg-subrt-1", timestamp: new Date(), attempts: 1, body: envelope(t.id) },
    ]);
    const ctx = createExecutionContext();
    await handler(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([]);
    expect(seen).toEqual([`Tenant ${t.slug}`]);
  });

  it("carries them in the test runtime too, as tests call subscribers directly", async () => {
    const t = await newTenant("subrt");
    expect((await findTenant(testRuntime(), t.id))?.id).toBe(t.id);
  });
});
