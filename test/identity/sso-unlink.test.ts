import { describe, expect, it } from "vitest";
import { PASSWORD } from "./helpers";
import { ISSUER, ssoKit } from "./sso-helpers";
import { codeAt, platformAt } from "./two-factor-helpers";

const p = platformAt("2026-04-01T10:00:00.000Z");

const { tenantWithSso, signIn, signInWithToken, linksOf } = ssoKit(p, "sso-unlink");

const unlinkMine = (slug: string, token: string, body: Record<string, unknown>) =>
  p.call("/api/v1/me/sso", { tenant: slug, token, method: "DELETE", body });

/** Whether a session still refreshes: its status, and the next refresh token when it did. */
const refresh = async (slug: string, refreshToken: string) => {
  const res = await p.call("/api/v1/auth/refresh", { tenant: slug, body: { refresh_token: refreshToken } });
  return { status: res.status, next: String(res.body.refresh_token) };
};

/**
 * A user with a password session, an SSO session of their identity (refreshed once, so the
 * family and not just its first token must end), and another user's SSO session.
 */
async function sessionsOfTwo(slug: string, tenantId: string, email: string) {
  const u = await p.user(slug, email);
  const byPassword = String((await p.login(slug, email)).body.refresh_token);
  const first = await signInWithToken(tenantId, `${u.id}-at-idp`, email);
  expect(first.result.ok, JSON.stringify(first.result)).toBe(true);
  const bySso = await refresh(slug, first.refreshToken);
  expect(bySso.status).toBe(200);
  const other = await signInWithToken(tenantId, "bystander-at-idp", `bystander-${u.id}@example.com`);
  expect(other.result.ok, JSON.stringify(other.result)).toBe(true);
  return { u, byPassword, bySso: bySso.next, bystander: other.refreshToken };
}

describe("DELETE /me/sso", () => {
  it("unlinks the caller's identity after their password; 404 when none is linked; audited", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "una@example.com");
    const other = await p.user(t.slug, "otis@example.com");
    expect((await signIn(t.id, "una-at-idp", "una@example.com")).ok).toBe(true);
    expect((await signIn(t.id, "otis-at-idp", "otis@example.com")).ok).toBe(true);

    const wrong = await unlinkMine(t.slug, u.token, { password: "not my password at all" });
    expect([wrong.status, wrong.body.code]).toEqual([403, "wrong_password"]);
    expect(await linksOf(t.id)).toHaveLength(2);

    const done = await unlinkMine(t.slug, u.token, { password: PASSWORD });
    expect(done.status, JSON.stringify(done.body)).toBe(204);
    // Only the caller's identity goes.
    expect(await linksOf(t.id)).toEqual([{ subject: "otis-at-idp", user_id: other.id }]);
    const entries = await p.auditOf(t.adminKey, "identity.sso.unlinked");
    expect(entries.map((e) => [e.target, e.detail])).toEqual([
      [`${t.id}/user/${u.id}`, { issuer: ISSUER, by: "self", sessions_ended: 1 }],
    ]);

    const again = await unlinkMine(t.slug, u.token, { password: PASSWORD });
    expect([again.status, again.body.code]).toEqual([404, "not_found"]);
  });

  it("with two-factor on, needs a current code too, and spends it", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "tia@example.com");
    const { secret } = await p.enrol(u.token);
    expect((await signIn(t.id, "tia-at-idp", "tia@example.com", u.id)).ok).toBe(true);

    const noCode = await unlinkMine(t.slug, u.token, { password: PASSWORD });
    expect([noCode.status, noCode.body.code]).toEqual([403, "wrong_two_factor_code"]);
    // The step enrolment confirmed is spent already: a replay.
    const replayed = await unlinkMine(t.slug, u.token, { password: PASSWORD, code: codeAt(secret, p.clock) });
    expect([replayed.status, replayed.body.code]).toEqual([403, "wrong_two_factor_code"]);
    expect(await linksOf(t.id)).toHaveLength(1);

    p.clock.advance(30_000);
    const done = await unlinkMine(t.slug, u.token, { password: PASSWORD, code: codeAt(secret, p.clock) });
    expect(done.status, JSON.stringify(done.body)).toBe(204);
    expect(await linksOf(t.id)).toEqual([]);
  });

  it("ends the sessions the identity signed in, not the password's nor another user's", async () => {
    const t = await tenantWithSso();
    const { u, byPassword, bySso, bystander } = await sessionsOfTwo(t.slug, t.id, "sid@example.com");

    const done = await unlinkMine(t.slug, u.token, { password: PASSWORD });
    expect(done.status, JSON.stringify(done.body)).toBe(204);
    expect((await refresh(t.slug, bySso)).status).toBe(401);
    expect((await refresh(t.slug, byPassword)).status).toBe(200);
    expect((await refresh(t.slug, bystander)).status).toBe(200);
    const entries = await p.auditOf(t.adminKey, "identity.sso.unlinked");
    expect(entries.map((e) => e.detail)).toEqual([{ issuer: ISSUER, by: "self", sessions_ended: 1 }]);
  });

  it("is a user's: an API key gets 403; a malformed body 400", async () => {
    const t = await tenantWithSso();
    const byKey = await unlinkMine(t.slug, t.adminKey, { password: PASSWORD });
    expect(byKey.status).toBe(403);
    const u = await p.user(t.slug, "ulf@example.com");
    const bad = await unlinkMine(t.slug, u.token, {
      password: PASSWORD,
      code: "123456",
      recovery_code: "abcd-efgh-ijkl",
    });
    expect(bad.status).toBe(400);
  });
});

describe("DELETE /admin/users/{id}/sso", () => {
  it("an administrator unlinks a user they may act on; not an owner's; 404 for nothing linked or no user", async () => {
    const t = await tenantWithSso();
    const admin = await p.user(t.slug, "ava@example.com");
    const granted = await p.call(`/api/v1/admin/users/${admin.id}/roles/admin`, { method: "PUT", token: t.adminKey });
    expect(granted.status, JSON.stringify(granted.body)).toBe(204);
    const adminToken = String((await p.login(t.slug, "ava@example.com")).body.access_token);
    const member = await p.user(t.slug, "mel@example.com");
    const owner = await p.user(t.slug, "oona@example.com");
    await p.call(`/api/v1/admin/users/${owner.id}/roles/owner`, { method: "PUT", token: t.adminKey });
    expect((await signIn(t.id, "mel-at-idp", "mel@example.com")).ok).toBe(true);
    expect((await signIn(t.id, "oona-at-idp", "oona@example.com", owner.id)).ok).toBe(true);
    const unlink = (id: string, token: string) =>
      p.call(`/api/v1/admin/users/${id}/sso`, { tenant: t.slug, token, method: "DELETE" });

    // A member may not unlink anyone, themself included, through the admin route.
    const byMember = await unlink(member.id, member.token);
    expect(byMember.status).toBe(403);
    // Only an owner unlinks an owner.
    const ownerRefused = await unlink(owner.id, adminToken);
    expect([ownerRefused.status, ownerRefused.body.code]).toEqual([403, "forbidden"]);

    const done = await unlink(member.id, adminToken);
    expect(done.status, JSON.stringify(done.body)).toBe(204);
    expect(await linksOf(t.id)).toEqual([{ subject: "oona-at-idp", user_id: owner.id }]);
    const entries = await p.auditOf(t.adminKey, "identity.sso.unlinked");
    expect(entries.map((e) => [e.target, e.detail, e.actor?.id])).toEqual([
      [`${t.id}/user/${member.id}`, { issuer: ISSUER, by: "admin", sessions_ended: 1 }, admin.id],
    ]);

    expect((await unlink(member.id, adminToken)).status).toBe(404);
    expect((await unlink("01NOSUCHUSER", adminToken)).status).toBe(404);
    // The owner key unlinks the owner.
    expect((await unlink(owner.id, t.adminKey)).status).toBe(204);
    expect(await linksOf(t.id)).toEqual([]);
  });

  it("ends the sessions the identity signed in, not the password's nor another user's", async () => {
    const t = await tenantWithSso();
    const { u, byPassword, bySso, bystander } = await sessionsOfTwo(t.slug, t.id, "sam@example.com");

    const done = await p.call(`/api/v1/admin/users/${u.id}/sso`, {
      tenant: t.slug,
      token: t.adminKey,
      method: "DELETE",
    });
    expect(done.status, JSON.stringify(done.body)).toBe(204);
    expect((await refresh(t.slug, bySso)).status).toBe(401);
    expect((await refresh(t.slug, byPassword)).status).toBe(200);
    expect((await refresh(t.slug, bystander)).status).toBe(200);
    const entries = await p.auditOf(t.adminKey, "identity.sso.unlinked");
    expect(entries.map((e) => e.detail)).toEqual([{ issuer: ISSUER, by: "admin", sessions_ended: 1 }]);
  });

  it("refuses the caller's own account: the admin route would unlink it without the password and code DELETE /me/sso asks", async () => {
    const t = await tenantWithSso();
    const admin = await p.user(t.slug, "ada@example.com");
    const granted = await p.call(`/api/v1/admin/users/${admin.id}/roles/admin`, { method: "PUT", token: t.adminKey });
    expect(granted.status, JSON.stringify(granted.body)).toBe(204);
    const adminToken = String((await p.login(t.slug, "ada@example.com")).body.access_token);
    await p.enrol(adminToken);
    expect((await signIn(t.id, "ada-at-idp", "ada@example.com", admin.id)).ok).toBe(true);

    // An access token alone (stolen, say): no password, no code.
    const own = await p.call(`/api/v1/admin/users/${admin.id}/sso`, {
      tenant: t.slug,
      token: adminToken,
      method: "DELETE",
    });
    expect([own.status, own.body.code]).toEqual([403, "forbidden"]);
    expect(String(own.body.detail)).toContain("DELETE /api/v1/me/sso");
    expect(await linksOf(t.id)).toEqual([{ subject: "ada-at-idp", user_id: admin.id }]);
    // The policy's refusal, on record as every other.
    const denied = await p.auditOf(t.adminKey, "authz.denied");
    expect(denied.map((e) => e.detail?.rule)).toContain("own_account");
  });
});
