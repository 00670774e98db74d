// What /openapi.json says of Idempotency-Key is what the server does with it. The kernel
// (kernel/idempotency) applies a key to every POST under /api/v1 that carries a credential,
// not only to POSTs that create: an action (a post's publish) is replayed and its key's
// reuse with another body is 422. A POST that takes no credential (login, logout, ...)
// applies the key only when a credential is sent all the same, and ignores it otherwise.
import { describe, expect, it } from "vitest";
import { call, newTenant } from "../identity/helpers";

type Parameter = { name: string; in: string; description?: string };
type Operation = { parameters?: Parameter[]; responses: Record<string, { description: string }> };

async function operation(path: string, method: string): Promise<Operation> {
  const doc = await call("/openapi.json");
  expect(doc.status).toBe(200);
  const paths = doc.body.paths as Record<string, Record<string, Operation>>;
  const op = paths[path]?.[method];
  if (!op) throw new Error(`no ${method} ${path} in the document`);
  return op;
}

const keyParameter = (op: Operation) => op.parameters?.find((p) => p.name === "Idempotency-Key" && p.in === "header");

describe("Idempotency-Key in the document and on the wire", () => {
  it("an action POST that creates nothing (publish): documented, replayed, and 422 for another body", async () => {
    const op = await operation("/api/v1/blog/posts/{id}/publish", "post");
    expect(keyParameter(op)).toBeDefined();
    expect(op.responses["422"]?.description).toContain("idempotency_key_reused");

    const t = await newTenant();
    const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "A", content: "" } });
    const path = `/api/v1/blog/posts/${String(created.body.id)}/publish`;
    const headers = { "idempotency-key": "publish-once" };
    const first = await call(path, { method: "POST", token: t.adminKey, headers });
    expect(first.status).toBe(200);
    // Run again, publish would be 409 post_already_published: the first answer is replayed instead.
    const again = await call(path, { method: "POST", token: t.adminKey, headers });
    expect({ status: again.status, replayed: again.headers.get("idempotent-replayed") }).toEqual({
      status: 200,
      replayed: "true",
    });
    expect(again.body).toEqual(first.body);
    const other = await call(path, { token: t.adminKey, headers, body: { note: "another body" } });
    expect({ status: other.status, code: other.body.code }).toEqual({ status: 422, code: "idempotency_key_reused" });
  });

  it("a POST that takes no credential (logout): documented as applying only with one, as the server does", async () => {
    const op = await operation("/api/v1/auth/logout", "post");
    expect(keyParameter(op)?.description).toMatch(/only .*credential/);
    expect(op.responses["422"]?.description).toContain("idempotency_key_reused");

    const t = await newTenant();
    const headers = { "idempotency-key": "logout-once" };
    const logout = (refresh_token: string, token?: string) =>
      call("/api/v1/auth/logout", { tenant: t.slug, token, headers, body: { refresh_token } });
    // With a credential sent all the same, the key applies: another body under it is 422.
    expect((await logout("plr_first", t.adminKey)).status).toBe(204);
    const reused = await logout("plr_second", t.adminKey);
    expect({ status: reused.status, code: reused.body.code }).toEqual({ status: 422, code: "idempotency_key_reused" });
    // Without one, it is ignored: each request runs.
    expect((await logout("plr_first")).status).toBe(204);
    expect((await logout("plr_second")).status).toBe(204);
  });
});
