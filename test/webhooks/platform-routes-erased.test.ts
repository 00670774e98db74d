// The platform's webhook routes find the tenant through the kernel's tenant lookup, not the
// tenants module's store; an erased tenant's id is still answered as the tenants routes answer
// it: 404 saying when it was erased (its tombstone, the operator's proof), not "no tenant".
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { ERASURE_GRACE_MS } from "../../src/modules/tenants/erasure-job";
import { erasureStore } from "../../src/modules/tenants/erasure-store";
import { call, newTenant, rootKey } from "../identity/helpers";
import { eraseUntil } from "../tenants/helpers";

let minutes = 0;
const nextMinute = () => manualClock(new Date(Date.now() + ERASURE_GRACE_MS + ++minutes * 60_000));

describe("the platform's webhook routes for an erased tenant", () => {
  it("answer 404 naming when it was erased, and a slug given for the id with the id it belongs to", async () => {
    const t = await newTenant("wh-erased");
    const deleted = await call(`/api/v1/platform/tenants/${t.id}`, { method: "DELETE", token: rootKey() });
    expect(deleted.status).toBe(202);
    await eraseUntil(async () => (await erasureStore(env.DB).erasedAt(t.id)) !== null, nextMinute);
    const asked = await call(`/api/v1/platform/tenants/${t.id}/webhooks`, { token: rootKey() });
    expect({ status: asked.status, code: asked.body.code }).toEqual({ status: 404, code: "not_found" });
    expect(String(asked.body.detail)).toMatch(new RegExp(`^tenant ${t.id} was erased at \\d{4}-\\d\\d-\\d\\dT`));

    const live = await newTenant("wh-slug");
    const bySlug = await call(`/api/v1/platform/tenants/${live.slug}/webhooks`, { token: rootKey() });
    expect(bySlug.status).toBe(404);
    expect(String(bySlug.body.detail)).toContain(`that is the slug of tenant ${live.id}`);
  });
});
