// A request in flight when its tenant is erased: it passed the tenant lookup (the tenant
// was still there, or cached so), then reached an object the erasure already emptied. The
// object's refusal (TenantErased) crosses RPC as a plain error; the answer must be what an
// erased tenant gets everywhere else, 404 tenant_not_found, not a 500.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { aggregateByName } from "../../src/kernel/events/aggregate-rpc";
import { postDecider } from "../../src/modules/blog/domain";
import { fileStore } from "../../src/modules/files/contract";
import { directory } from "../../src/modules/identity/directory/contract";
import { registry } from "../../src/modules/webhooks/contract";
import { upload } from "../files/helpers";
import { call, newTenant, newUser } from "../identity/helpers";

describe("a request reaching an object its tenant's erasure emptied", () => {
  it("creating a webhook endpoint answers 404 tenant_not_found", async () => {
    const t = await newTenant("eif");
    // The tenant's row is still there: only the object is erased, as mid-erasure.
    await registry(env, t.id).eraseAll({ tenant_id: t.id });
    const res = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://hooks.example.com/in", events: ["blog.post.*"] },
    });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: "tenant_not_found" });
  });

  it("reserving an upload answers 404 tenant_not_found", async () => {
    const t = await newTenant("eif");
    await fileStore(env, t.id).eraseAll({ tenant_id: t.id });
    const res = await upload(t.adminKey, new TextEncoder().encode("hello"), { name: "a.txt", type: "text/plain" });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: "tenant_not_found" });
  });

  it("a blog command answers 404 tenant_not_found", async () => {
    const t = await newTenant("eif");
    const post = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "Hello", content: "Body" } });
    expect(post.status, JSON.stringify(post.body)).toBe(201);
    await aggregateByName(env, `${t.id}/${postDecider.type}/${post.body.id}`).eraseAll({ tenant_id: t.id });
    const res = await call(`/api/v1/blog/posts/${post.body.id}`, {
      method: "PATCH",
      token: t.adminKey,
      body: { title: "Late" },
    });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: "tenant_not_found" });
  });

  it("a token refresh, which writes to the erased directory, answers 404 tenant_not_found", async () => {
    const t = await newTenant("eif");
    const u = await newUser(t.slug);
    await directory(env, t.id).eraseAll({ tenant_id: t.id });
    const res = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: "tenant_not_found" });
  });
});
