// A role that an invitation or the SSO configuration names cannot be deleted from under them:
// nobody may end up with fewer rights than the invitation or the provider mapping said, unnoticed.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { auditOf, call, mailTo, newKey, newTenant, register, tokenIn } from "./helpers";

type Tenant = Awaited<ReturnType<typeof newTenant>>;

const createRole = async (t: Tenant, name: string) => {
  const res = await call("/api/v1/admin/roles", { token: t.adminKey, body: { name, permissions: ["blog.post.read"] } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
};
const deleteRole = (t: Tenant, name: string) =>
  call(`/api/v1/admin/roles/${name}`, { method: "DELETE", token: t.adminKey });

async function invite(t: Tenant, email: string, roles: string[]): Promise<{ id: string; token: string }> {
  const res = await call("/api/v1/admin/invitations", { token: t.adminKey, body: { email, roles } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, token: tokenIn(await mailTo(t.slug, email, "You are invited")) };
}

const accept = (t: Tenant, token: string) =>
  call("/api/v1/auth/accept-invitation", {
    tenant: t.slug,
    body: { token, password: "a brand new passphrase 42", name: "Zed" },
  });

const sso = (t: Tenant, body: Record<string, unknown>) =>
  call("/api/v1/admin/sso", {
    method: "PUT",
    token: t.adminKey,
    body: {
      issuer: "https://login.example.com",
      client_id: "plinth",
      client_secret: "s3cret-of-the-provider",
      allowed_domains: ["example.com"],
      role_mapping: [],
      default_role: "member",
      ...body,
    },
  });

describe("deleting a role that pending invitations name", () => {
  it("is 409 role_in_use naming the invitations; once they are revoked it is deleted", async () => {
    const t = await newTenant();
    await createRole(t, "temp");
    const { id, token } = await invite(t, "zed@example.com", ["temp"]);

    const refused = await deleteRole(t, "temp");
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.body.code).toBe("role_in_use");
    expect(refused.body.detail).toContain(id);
    expect(refused.body.used_by).toEqual({
      users: 0,
      pending_invitations: 1,
      invitations: [id],
      sso: [],
      registration: false,
    });
    expect((await call("/api/v1/admin/roles/temp", { token: t.adminKey })).status).toBe(200);

    // The invitation still gives what it said.
    const accepted = await accept(t, token);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    const me = await call("/api/v1/me", { token: String(accepted.body.access_token) });
    expect((me.body.user as { roles: string[] }).roles).toEqual(["temp"]);

    // A revoked (or accepted) invitation names the role no more; a holder still does.
    await createRole(t, "gone");
    const other = await invite(t, "amy@example.com", ["gone", "viewer"]);
    expect((await deleteRole(t, "gone")).status).toBe(409);
    expect((await call(`/api/v1/admin/invitations/${other.id}`, { method: "DELETE", token: t.adminKey })).status).toBe(
      204,
    );
    expect((await deleteRole(t, "gone")).status).toBe(204);
    const held = await deleteRole(t, "temp");
    expect(held.body.used_by).toEqual({
      users: 1,
      pending_invitations: 0,
      invitations: [],
      sso: [],
      registration: false,
    });
  });

  it("an invitation whose role went missing anyway (from before this check) is void at accept, not accepted with fewer roles", async () => {
    const t = await newTenant();
    await createRole(t, "temp");
    const { token } = await invite(t, "zed@example.com", ["temp", "viewer"]);
    // As a directory could hold it from before deletion checked invitations.
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      state.storage.sql.exec("delete from roles where name = 'temp'");
    });
    const res = await accept(t, token);
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: "invalid_token" });
    const users = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) =>
      state.storage.sql.exec<{ n: number }>("select count(*) as n from users").one(),
    );
    expect(users.n).toBe(0);
  });
  it("names the invitations' ids only to a caller who may read invitations; others get their number", async () => {
    // A key that manages roles but not invitations must not learn invitations it cannot list.
    const t = await newTenant();
    await createRole(t, "temp");
    const { id } = await invite(t, "zed@example.com", ["temp"]);
    const rolesOnly = await newKey(t.adminKey, ["admin.roles.read", "admin.roles.write", "blog.post.read"]);
    const refused = await call("/api/v1/admin/roles/temp", { method: "DELETE", token: rolesOnly.key });
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.body.code).toBe("role_in_use");
    expect(refused.body.detail).not.toContain(id);
    expect(refused.body.detail).toContain("1 pending invitation");
    expect(refused.body.used_by).toEqual({ users: 0, pending_invitations: 1, sso: [], registration: false });
    const admin = await deleteRole(t, "temp");
    expect(admin.body.used_by).toEqual({
      users: 0,
      pending_invitations: 1,
      invitations: [id],
      sso: [],
      registration: false,
    });
  });
});

describe("deleting a role that the SSO configuration names", () => {
  it("is 409 role_in_use naming role_mapping or default_role, built-in roles included, until the configuration changes", async () => {
    const t = await newTenant("sso");
    await createRole(t, "staff");
    const put = await sso(t, { role_mapping: [{ claim: "groups", value: "staff", role: "staff" }] });
    expect(put.status, JSON.stringify(put.body)).toBe(200);

    const mapped = await deleteRole(t, "staff");
    expect(mapped.status, JSON.stringify(mapped.body)).toBe(409);
    expect(mapped.body.code).toBe("role_in_use");
    expect(mapped.body.detail).toContain("role_mapping");
    expect(mapped.body.used_by).toEqual({
      users: 0,
      pending_invitations: 0,
      invitations: [],
      sso: ["role_mapping"],
      registration: false,
    });

    // member is nobody's yet in a fresh tenant, but new sign-ins get it (and so do registrations).
    const member = await deleteRole(t, "member");
    expect(member.status).toBe(409);
    expect(member.body.used_by).toEqual({
      users: 0,
      pending_invitations: 0,
      invitations: [],
      sso: ["default_role"],
      registration: true,
    });

    expect((await sso(t, { role_mapping: [], default_role: "viewer" })).status).toBe(200);
    expect((await deleteRole(t, "staff")).status).toBe(204);
    const viewer = await deleteRole(t, "viewer");
    expect(viewer.body.used_by).toEqual({
      users: 0,
      pending_invitations: 0,
      invitations: [],
      sso: ["default_role"],
      registration: false,
    });
    expect((await call("/api/v1/admin/sso", { method: "DELETE", token: t.adminKey })).status).toBe(204);
    expect((await deleteRole(t, "viewer")).status).toBe(204);
  });

  it("a first sign-in mapped to a role that is gone anyway (from before this check) is refused, not provisioned with fewer roles", async () => {
    const t = await newTenant("sso");
    await createRole(t, "staff");
    expect((await sso(t, { default_role: "staff" })).status).toBe(200);
    // As a directory could hold it from before deletion checked the SSO configuration.
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      state.storage.sql.exec("delete from roles where name = 'staff'");
    });
    const signIn = (subject: string, roles: string[]) =>
      directory(env, t.id).ssoLogin({
        ctx: { now: new Date().toISOString(), actor: { kind: "system", id: "test" }, requestId: null },
        email: `${subject}@example.com`,
        name: "Zed",
        issuer: "https://login.example.com",
        clientId: "plinth",
        subject,
        roles,
        userId: `u-${subject}`,
        session: { familyId: `f-${subject}`, tokenHash: "a".repeat(64) },
        userAgent: null,
        adminPermissions: [],
        challengeHash: "c".repeat(64),
        challengeExpiresAt: new Date(Date.now() + 300_000).toISOString(),
      });
    const refused = await signIn("zed", ["staff", "viewer"]);
    expect(refused).toEqual({ ok: false, error: "role_missing", roles: ["staff"] });
    // The tenant's administrators see the refusal, and which roles are missing, in their audit log.
    const [entry] = await auditOf(t.adminKey, "identity.sso.refused");
    expect(entry?.target).toBe(`${t.id}/sso`);
    expect(entry?.detail).toEqual({ reason: "role_missing", roles: ["staff"] });
    const users = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) =>
      state.storage.sql.exec<{ n: number }>("select count(*) as n from users").one(),
    );
    expect(users.n).toBe(0);
    // Roles that exist still provision.
    const ok = await signIn("amy", ["viewer"]);
    expect(ok.ok && ok.value.principal.roles).toEqual(["viewer"]);
  });
});

describe("deleting member, the role self-registration gives", () => {
  it("is 409 role_in_use, so registration keeps working (it answered 500 once member was gone)", async () => {
    const t = await newTenant();
    const refused = await deleteRole(t, "member");
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.body.code).toBe("role_in_use");
    expect(refused.body.used_by).toEqual({
      users: 0,
      pending_invitations: 0,
      invitations: [],
      sso: [],
      registration: true,
    });
    expect(refused.body.detail).toContain("registration");
    const user = await register(t.slug, "amy@example.com");
    expect(user.roles).toEqual(["member"]);
    // Emptying it is how a tenant gives new users nothing.
    const emptied = await call("/api/v1/admin/roles/member", {
      method: "PUT",
      token: t.adminKey,
      body: { permissions: [] },
    });
    expect(emptied.status).toBe(200);
  });

  it("registers a user with no role where member went missing anyway (deleted before this check), not 500", async () => {
    const t = await newTenant();
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      state.storage.sql.exec("delete from roles where name = 'member'");
    });
    const res = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: "late@example.com", password: "a brand new passphrase 42", name: "Late" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.roles).toEqual([]);
  });
});
