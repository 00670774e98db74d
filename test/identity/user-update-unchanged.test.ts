import { describe, expect, it } from "vitest";
import { auditOf, call, newTenant, newUser } from "./helpers";

const patch = (token: string, id: string, body: Record<string, unknown>) =>
  call(`/api/v1/users/${id}`, { token, method: "PATCH", body });

describe("PATCH /api/v1/users/{id} that changes nothing", () => {
  it("answers the user and records no event, as a blog post's change to nothing does", async () => {
    const t = await newTenant("rename-same");
    const user = await newUser(t.slug, "same@example.com");
    const before = await call(`/api/v1/users/${user.id}`, { token: t.adminKey });

    // An empty patch, and the name the user has already: 200 with the user as it was.
    for (const body of [{}, { name: before.body.name }]) {
      const res = await patch(t.adminKey, user.id, body);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual(before.body);
    }
    // A real change afterwards is the only `identity.user.updated` in the log: the audit queue
    // delivers in order per tenant, so once it is there the two no-ops would be too.
    expect((await patch(t.adminKey, user.id, { name: "Someone Else" })).status).toBe(200);
    const updated = await auditOf(t.adminKey, "identity.user.updated", 1);
    expect(updated.map((e) => e.detail)).toEqual([{ fields: ["name"] }]);
  });
});
