// GET /api/v1/users/{id}/export: an administrator's copy of one member's data, the same export as the
// member's own /me/export, for an access request that reached the business rather than the
// product. identity.user.export (a key may hold it), only an owner exports an owner, 404 for a user
// not in the tenant, each export recorded with the caller as actor and the member as target, and
// its own rate-limit policy per caller. docs/identity.md, "An administrator's copy of a member's data".
import { beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../files/helpers";
import { gateway } from "../gateway/helpers";
import { auditOf, auditSettled, call, newKey, newTenant, newUser } from "./helpers";

type Json = Record<string, unknown>;
interface Export {
  tenant_id: string;
  user_id: string;
  modules: { identity: { account: Json }; blog: { posts: Json[] }; audit: { entries: Json[] } };
}

const exportOf = (token: string, id: string) => call(`/api/v1/users/${id}/export`, { token });

async function grant(adminKey: string, userId: string, role: string) {
  const res = await call(`/api/v1/admin/users/${userId}/roles/${role}`, { token: adminKey, method: "PUT" });
  expect(res.status, JSON.stringify(res.body)).toBe(204);
}

describe("GET /api/v1/users/{id}/export", () => {
  let t: { id: string; slug: string; adminKey: string };
  let member: Awaited<ReturnType<typeof newUser>>;
  let admin: Awaited<ReturnType<typeof newUser>>;
  let owner: Awaited<ReturnType<typeof newUser>>;
  let postId: string;

  beforeAll(async () => {
    t = await newTenant("mexp");
    member = await newUser(t.slug);
    admin = await newUser(t.slug);
    owner = await newUser(t.slug);
    await grant(t.adminKey, admin.id, "admin");
    await grant(t.adminKey, owner.id, "owner");
    const post = await call("/api/v1/blog/posts", {
      token: member.access_token,
      body: { title: "The member's draft", content: "what the member wrote" },
    });
    expect(post.status, JSON.stringify(post.body)).toBe(201);
    postId = String(post.body.id);
  });

  it("answers an administrator the member's export: their account and posts, not to be stored", async () => {
    const got = await eventually(
      () => exportOf(t.adminKey, member.id),
      (res) => res.status !== 200 || (res.body as unknown as Export).modules.blog.posts.length > 0,
    );
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect(got.headers.get("cache-control")).toBe("no-store");
    const body = got.body as unknown as Export;
    expect(body).toMatchObject({ tenant_id: t.id, user_id: member.id });
    expect(Object.keys(body.modules).sort()).toEqual(["audit", "blog", "files", "identity"]);
    expect(body.modules.identity.account).toMatchObject({ id: member.id, email: member.email });
    expect(body.modules.blog.posts).toEqual([
      expect.objectContaining({ id: postId, title: "The member's draft", content: "what the member wrote" }),
    ]);
    // The member's, not the caller's: an admin user's export of them holds the same account.
    const byAdmin = await exportOf(admin.access_token, member.id);
    expect(byAdmin.status, JSON.stringify(byAdmin.body)).toBe(200);
    expect((byAdmin.body as unknown as Export).modules.identity.account).toMatchObject({ id: member.id });
  });

  it("is refused 403 to a member and a viewer, who do not hold identity.user.export", async () => {
    const viewer = await newUser(t.slug);
    await grant(t.adminKey, viewer.id, "viewer");
    for (const token of [member.access_token, viewer.access_token]) {
      const res = await exportOf(token, admin.id);
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body.code).toBe("forbidden");
    }
  });

  it("is open to a key holding the permission, and to no key without it", async () => {
    const exporter = await newKey(t.adminKey, ["identity.user.export"], "dpo");
    const ok = await exportOf(exporter.key, member.id);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ user_id: member.id });
    const reader = await newKey(t.adminKey, ["identity.user.read"], "reader");
    const refused = await exportOf(reader.key, member.id);
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
  });

  it("exports an owner only to an owner: an admin is refused (owner_only)", async () => {
    const refused = await exportOf(admin.access_token, owner.id);
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body.code).toBe("forbidden");
    expect(String(refused.body.detail)).toContain("only an owner");
    const denied = await eventually(
      () => call(`/api/v1/admin/audit?action=authz.denied&actor=${admin.id}`, { token: t.adminKey }),
      (res) => (res.body.items as Json[]).length > 0,
    );
    expect((denied.body.items as Json[])[0]).toMatchObject({
      detail: { rule: "owner_only", route: "/api/v1/users/:id/export" },
    });
    const byOwner = await exportOf(owner.access_token, owner.id);
    expect(byOwner.status, JSON.stringify(byOwner.body)).toBe(200);
    const byAdminKey = await exportOf(t.adminKey, owner.id);
    expect(byAdminKey.status, JSON.stringify(byAdminKey.body)).toBe(200);
    // An admin exports another admin: a read takes no authority away, so no "not held" rule.
    const other = await newUser(t.slug);
    await grant(t.adminKey, other.id, "admin");
    expect((await exportOf(admin.access_token, other.id)).status).toBe(200);
  });

  it("answers 404 for another tenant's user and for an id nobody has, and reads nothing of theirs", async () => {
    const other = await newTenant("mexq");
    const stranger = await newUser(other.slug);
    for (const id of [stranger.id, "usr_nobody"]) {
      const res = await exportOf(t.adminKey, id);
      expect(res.status, JSON.stringify(res.body)).toBe(404);
      expect(res.body.code).toBe("not_found");
      expect(JSON.stringify(res.body)).not.toContain(stranger.email);
    }
  });

  it("is audited: the caller as actor, the member as target", async () => {
    const auditor = await newTenant("mexa");
    const someone = await newUser(auditor.slug);
    const key = await newKey(auditor.adminKey, ["identity.user.export"], "exporter");
    expect((await exportOf(key.key, someone.id)).status).toBe(200);
    const [entry] = await auditOf(auditor.adminKey, "identity.user.exported");
    expect(entry).toMatchObject({
      actor: { kind: "api_key", id: key.id },
      action: "identity.user.exported",
      target: `${auditor.id}/user/${someone.id}`,
    });
    // A refusal records no export: counted after an audit settle marker (a registration through
    // the directory's outbox, which the export's entry takes), not as soon as the refusal's own
    // entry shows (it goes straight to the queue, so an export recorded with it may come later).
    const outsider = await newUser(auditor.slug);
    expect((await exportOf(outsider.access_token, someone.id)).status).toBe(403);
    await auditOf(auditor.adminKey, "authz.denied");
    await auditSettled(auditor.slug, auditor.adminKey);
    const exported = await call("/api/v1/admin/audit?action=identity.user.exported", { token: auditor.adminKey });
    expect(exported.body.items).toHaveLength(1);
  });
});

describe("GET /api/v1/users/{id}/export, rate limited", () => {
  it("answers 429 past the member_export policy of the caller, leaving another caller's budget", async () => {
    const gw = gateway({ member_export: { limit: 2, burst: 2, period_s: 3600 } });
    const tenant = await gw.tenant("mexr");
    const reg = await gw.call("/api/v1/auth/register", {
      tenant: tenant.slug,
      body: { email: `m-${tenant.slug}@example.com`, password: "correct horse battery staple", name: "M" },
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const path = `/api/v1/users/${String(reg.body.id)}/export`;
    for (let i = 0; i < 2; i++) expect((await gw.call(path, { token: tenant.adminKey })).status).toBe(200);
    const refused = await gw.call(path, { token: tenant.adminKey });
    expect(refused.status, JSON.stringify(refused.body)).toBe(429);
    expect(refused.body.code).toBe("rate_limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const made = await gw.call("/api/v1/admin/api-keys", {
      token: tenant.adminKey,
      body: { name: "second", scopes: ["identity.user.export"] },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect((await gw.call(path, { token: String(made.body.key) })).status).toBe(200);
  });
});
