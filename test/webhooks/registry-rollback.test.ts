// The registry keeps its endpoints in memory as well as in storage, and each change re-reads the
// endpoint it wrote into that memory inside the change's transaction. A change whose transaction
// then rolled back (a full disk) kept the re-read in memory: the endpoint was read back as changed,
// under a version storage never held, until the object was evicted (or failed often enough to be
// restarted), and events were routed by the change that did not happen.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, newTenant } from "../identity/helpers";
import { failNextTransaction } from "../storage-faults";

describe("a webhook endpoint change whose transaction rolls back", () => {
  afterEach(() => vi.restoreAllMocks());

  it("reads the endpoint back as storage holds it, at its stored version", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const t = await newTenant();
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://hooks.example.com/plinth", events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body.id);
    // The registry's next transaction fails as a full disk would, after its writes: they roll back.
    await failNextTransaction(env.WEBHOOK_REGISTRY.getByName(t.id));
    const patched = await call(`/api/v1/admin/webhooks/${id}`, {
      method: "PATCH",
      token: t.adminKey,
      headers: { "if-match": '"1"' },
      body: { events: ["*"], enabled: false },
    });
    expect(patched.status).toBe(500);

    const one = await call(`/api/v1/admin/webhooks/${id}`, { token: t.adminKey });
    expect(one.headers.get("etag")).toBe('"1"');
    expect(one.body).toMatchObject({ version: 1, enabled: true, events: ["blog.post.*"] });
  });
});
