// Every refusal of an authority decision is on record: one authz.denied entry in
// the tenant's audit export naming the permission or rule, the route and the target.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { auditOf, call, type Entry, newKey, newTenant, newUser, ORIGIN } from "./helpers";

async function exported(token: string): Promise<Entry[]> {
  const res = await SELF.fetch(`${ORIGIN}/api/v1/admin/audit/export`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const lines = (await res.text()).trimEnd().split("\n");
  return lines.map((l) => JSON.parse(l) as Entry & { checkpoint?: unknown }).filter((e) => !e.checkpoint);
}

describe("denials on record", () => {
  it("records each refused escalation with the permission or rule, method, route pattern and target", async () => {
    const t = await newTenant("deny");
    const owner = await newUser(t.slug);
    const admin = await newUser(t.slug);
    const member = await newUser(t.slug);
    for (const [u, role] of [
      [owner, "owner"],
      [admin, "admin"],
    ] as const) {
      expect(
        (await call(`/api/v1/admin/users/${u.id}/roles/${role}`, { method: "PUT", token: t.adminKey })).status,
      ).toBe(204);
    }
    const post = await call("/api/v1/blog/posts", { token: owner.access_token, body: { title: "t", content: "c" } });
    const postId = post.body.id as string;
    const keys = await newKey(t.adminKey, ["admin.keys.write"]);

    const refusals: [string, () => Promise<{ status: number }>, number][] = [
      ["requirePermission", () => call("/api/v1/users", { token: member.access_token }), 403],
      ["self or permission", () => call(`/api/v1/users/${admin.id}`, { token: member.access_token }), 403],
      [
        "admin grants admin",
        () => call(`/api/v1/admin/users/${member.id}/roles/admin`, { method: "PUT", token: admin.access_token }),
        403,
      ],
      [
        "admin deletes the owner",
        () => call(`/api/v1/users/${owner.id}`, { method: "DELETE", token: admin.access_token }),
        403,
      ],
      [
        "command bus",
        () =>
          call(`/api/v1/blog/posts/${postId}`, { method: "PATCH", token: member.access_token, body: { title: "x" } }),
        403,
      ],
      [
        "a key minting beyond itself",
        () => call("/api/v1/admin/api-keys", { token: keys.key, body: { name: "x", scopes: ["blog.post.delete"] } }),
        403,
      ],
    ];
    for (const [name, act, status] of refusals) expect((await act()).status, name).toBe(status);

    await auditOf(t.adminKey, "authz.denied", refusals.length);
    const denied = (await exported(t.adminKey)).filter((e) => e.action === "authz.denied");
    // The queue does not promise order across requests: compare as sets.
    const got = denied.map((e) => JSON.stringify({ actor: e.actor.id, ...e.detail })).sort();
    const want = [
      { actor: member.id, permission: "identity.user.read", method: "GET", route: "/api/v1/users", target: null },
      {
        actor: member.id,
        permission: "identity.user.read",
        method: "GET",
        route: "/api/v1/users/:id",
        target: admin.id,
      },
      {
        actor: admin.id,
        rule: "not_held",
        permissions: ["*"],
        method: "PUT",
        route: "/api/v1/admin/users/:id/roles/:name",
        target: member.id,
      },
      { actor: admin.id, rule: "owner_only", method: "DELETE", route: "/api/v1/users/:id", target: owner.id },
      {
        actor: member.id,
        permission: "blog.post.update",
        method: "PATCH",
        route: "/api/v1/blog/posts/:id",
        target: postId,
      },
      {
        actor: keys.id,
        rule: "not_held",
        permissions: ["blog.post.delete"],
        method: "POST",
        route: "/api/v1/admin/api-keys",
        target: null,
      },
    ].map((d) => JSON.stringify(d));
    expect(got).toEqual(want.sort());
    expect(denied.every((e) => e.request_id !== null)).toBe(true);
  });
});
