// A first single sign-on links an unlinked provider identity to the account of its email. For an
// owner's account, or one that two-factor protects, that would let whoever controls the provider
// (or a provider that asserts emails carelessly) sign in past plinth's password and second factor:
// those accounts are linked only explicitly, never by email alone.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { auditSettled, PASSWORD } from "./helpers";
import { ISSUER, ssoKit, verifiedHashOf } from "./sso-helpers";
import { platformAt } from "./two-factor-helpers";

const p = platformAt("2026-03-01T10:00:00.000Z");

/** The permissions `require_two_factor_for_admins` covers, as the Worker sends them (a sample of the declared `admin.*`). */
const ADMIN_PERMISSIONS = ["admin.audit.read", "admin.roles.write", "admin.settings.write"];

const { tenantWithSso, signIn, linksOf } = ssoKit(p, "sso-link", ADMIN_PERMISSIONS);

describe("linking an existing account by email on a first single sign-on", () => {
  it("is refused for an owner's account (link_required): nothing linked, no session, the refusal audited", async () => {
    const t = await tenantWithSso();
    const owner = await p.user(t.slug, "olga@example.com");
    const granted = await p.call(`/api/v1/admin/users/${owner.id}/roles/owner`, { method: "PUT", token: t.adminKey });
    expect(granted.status, JSON.stringify(granted.body)).toBe(204);

    const res = await signIn(t.id, "olga-at-idp", "olga@example.com");
    expect(res).toEqual({ ok: false, error: "link_required" });
    expect(await linksOf(t.id)).toEqual([]);
    const refused = await p.auditOf(t.adminKey, "identity.sso.refused");
    expect(refused.map((e) => [e.target, e.detail])).toEqual([
      [`${t.id}/user/${owner.id}`, { reason: "link_required" }],
    ]);
    const sessions = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) =>
      state.storage.sql.exec<{ n: number }>("select count(*) as n from token_families where id like 'f-olga%'").one(),
    );
    expect(sessions.n).toBe(0);
  });

  it("is refused for an account with two-factor on; a pending enrolment and a plain account link as before", async () => {
    const t = await tenantWithSso();
    const guarded = await p.user(t.slug, "gus@example.com");
    await p.enrol(guarded.token);
    const res = await signIn(t.id, "gus-at-idp", "gus@example.com");
    expect(res).toEqual({ ok: false, error: "link_required" });

    const plain = await p.user(t.slug, "pat@example.com");
    const pending = await p.call("/api/v1/me/two-factor", { token: plain.token, method: "POST" });
    expect(pending.status, JSON.stringify(pending.body)).toBe(201);
    const linked = await signIn(t.id, "pat-at-idp", "pat@example.com");
    expect(linked.ok && linked.value.principal.id).toBe(plain.id);
    expect(await linksOf(t.id)).toEqual([{ subject: "pat-at-idp", user_id: plain.id }]);
  });

  it("with require_two_factor_for_admins on, is refused for an admin's account without two-factor, as for an owner's", async () => {
    const t = await tenantWithSso();
    const admin = await p.user(t.slug, "ada@example.com");
    const granted = await p.call(`/api/v1/admin/users/${admin.id}/roles/admin`, { method: "PUT", token: t.adminKey });
    expect(granted.status, JSON.stringify(granted.body)).toBe(204);
    const member = await p.user(t.slug, "mo@example.com");
    const setting = await p.call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { require_two_factor_for_admins: true },
    });
    expect(setting.status, JSON.stringify(setting.body)).toBe(200);

    // The provider would otherwise sign the admin in past the second factor the tenant requires of them.
    expect(await signIn(t.id, "ada-at-idp", "ada@example.com")).toEqual({ ok: false, error: "link_required" });
    const refused = await p.auditOf(t.adminKey, "identity.sso.refused");
    expect(refused.map((e) => [e.target, e.detail])).toEqual([
      [`${t.id}/user/${admin.id}`, { reason: "link_required" }],
    ]);
    // A user the setting does not cover links as before.
    const linked = await signIn(t.id, "mo-at-idp", "mo@example.com");
    expect(linked.ok && linked.value.principal.id).toBe(member.id);
    expect(await linksOf(t.id)).toEqual([{ subject: "mo-at-idp", user_id: member.id }]);
  });

  it("with require_two_factor_for_admins off, an admin's account without two-factor links by email as before", async () => {
    const t = await tenantWithSso();
    const admin = await p.user(t.slug, "abe@example.com");
    await p.call(`/api/v1/admin/users/${admin.id}/roles/admin`, { method: "PUT", token: t.adminKey });
    const linked = await signIn(t.id, "abe-at-idp", "abe@example.com");
    expect(linked.ok && linked.value.principal.id).toBe(admin.id);
  });

  it("an identity linked already (explicitly, or before this rule) still signs its owner in", async () => {
    const t = await tenantWithSso();
    const owner = await p.user(t.slug, "ola@example.com");
    await p.call(`/api/v1/admin/users/${owner.id}/roles/owner`, { method: "PUT", token: t.adminKey });
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      state.storage.sql.exec(
        "insert into sso_identities (issuer, subject, user_id, linked_at) values (?, ?, ?, ?)",
        ISSUER,
        "ola-at-idp",
        owner.id,
        p.clock.now().toISOString(),
      );
    });
    const res = await signIn(t.id, "ola-at-idp", "ola@example.com");
    expect(res.ok && res.value.principal.id).toBe(owner.id);
  });
});

/** The directory's side of `POST /me/sso/link`: the proof checked for a sign-in that links `userId` only. */
const beginLink = async (tenantId: string, userId: string, proof: { step: number | null } | null) =>
  directory(env, tenantId).ssoBegin({
    ctx: { now: p.clock.now().toISOString(), actor: { kind: "user", id: userId }, requestId: null },
    link: { userId, proof, verifiedHash: await verifiedHashOf(tenantId, userId) },
  });

/** The sessions a sign-in through the provider started, by the identity's subject. */
const ssoSessions = (tenantId: string) =>
  runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_, state) =>
    state.storage.sql
      .exec<{ sso_subject: string }>("select sso_subject from token_families where sso_subject is not null")
      .toArray(),
  );

const stepNow = () => Math.floor(p.clock.now().getTime() / 30_000);

describe("linking explicitly (POST /me/sso/link)", () => {
  it("with two-factor on, begins only with a code the directory has not seen, and spends it", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "tess@example.com");
    await p.enrol(u.token);
    expect(await beginLink(t.id, u.id, null)).toEqual({ ok: false, error: "wrong_proof" });
    // The step enrolment confirmed is spent already: a replay.
    expect(await beginLink(t.id, u.id, { step: stepNow() })).toEqual({ ok: false, error: "wrong_proof" });
    p.clock.advance(30_000);
    expect(await beginLink(t.id, u.id, { step: stepNow() })).toEqual({
      ok: true,
      value: { secondFactor: true, recoveryHash: null },
    });
    expect(await beginLink(t.id, u.id, { step: stepNow() })).toEqual({ ok: false, error: "wrong_proof" });
    const failed = await p.auditOf(t.adminKey, "identity.login.two_factor_failed", 2);
    expect(failed.length).toBeGreaterThanOrEqual(2);
  });

  it("links only the account that began it, by its own email; a linked identity or account is a conflict", async () => {
    const t = await tenantWithSso();
    const owner = await p.user(t.slug, "otto@example.com");
    await p.call(`/api/v1/admin/users/${owner.id}/roles/owner`, { method: "PUT", token: t.adminKey });
    const other = await p.user(t.slug, "other@example.com");

    // Signed in at the provider as someone else (or made to be): refused, nothing linked.
    expect(await signIn(t.id, "other-at-idp", "other@example.com", owner.id)).toEqual({
      ok: false,
      error: "link_mismatch",
    });
    expect(await linksOf(t.id)).toEqual([]);

    const linked = await signIn(t.id, "otto-at-idp", "otto@example.com", owner.id);
    expect(linked).toMatchObject({ ok: true, value: { session: false, principal: { id: owner.id } } });
    expect(await linksOf(t.id)).toEqual([{ subject: "otto-at-idp", user_id: owner.id }]);
    // The user who linked is named (the callback's request carries no credential).
    const entries = await p.auditOf(t.adminKey, "identity.sso.linked");
    expect(entries.map((e) => [e.target, e.actor])).toEqual([
      [`${t.id}/user/${owner.id}`, { kind: "user", id: owner.id }],
    ]);
    // A link starts no session (its state is bound to no browser: tokens would sign in whoever opened
    // its callback URL), so nothing signed in through the provider: no sso.login, no session of it.
    await auditSettled(t.slug, t.adminKey, p.call);
    expect(await p.auditOf(t.adminKey, "identity.sso.login", 0)).toEqual([]);
    expect(await ssoSessions(t.id)).toEqual([]);

    // Linking again through the same identity links nothing new and starts no session either; another
    // identity, or another account, conflicts.
    const again = await signIn(t.id, "otto-at-idp", "otto@example.com", owner.id);
    expect(again).toMatchObject({ ok: true, value: { session: false } });
    expect(await ssoSessions(t.id)).toEqual([]);
    await auditSettled(t.slug, t.adminKey, p.call);
    expect(await p.auditOf(t.adminKey, "identity.sso.linked")).toHaveLength(1);
    expect(await signIn(t.id, "otto-2-at-idp", "otto@example.com", owner.id)).toEqual({
      ok: false,
      error: "identity_conflict",
    });
    expect(await signIn(t.id, "otto-at-idp", "other@example.com", other.id)).toEqual({
      ok: false,
      error: "identity_conflict",
    });
  });

  it("the directory takes a session with a sign-in only: none is minted for a link, none is missing from a sign-in", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "sol@example.com");
    const callback = (linkUserId: string | null, session: { familyId: string; tokenHash: string } | null) =>
      directory(env, t.id).ssoLogin({
        ctx: { now: p.clock.now().toISOString(), actor: { kind: "anonymous", id: null }, requestId: null },
        email: "sol@example.com",
        name: "Sol",
        issuer: ISSUER,
        clientId: "plinth",
        subject: "sol-at-idp",
        roles: ["member"],
        userId: "u-sol",
        session,
        userAgent: null,
        linkUserId,
        linkSecondFactor: true,
        adminPermissions: ADMIN_PERMISSIONS,
        challengeHash: "c".repeat(64),
        challengeExpiresAt: new Date(p.clock.now().getTime() + 300_000).toISOString(),
      });
    const session = { familyId: "f-sol", tokenHash: "a".repeat(64) };
    // Refused by the contract (sso-contract.ts), before the directory reads anything.
    await expect(callback(u.id, session)).rejects.toThrow(/ZodError/);
    await expect(callback(null, null)).rejects.toThrow(/ZodError/);
    expect(await linksOf(t.id)).toEqual([]);
    const linked = await callback(u.id, null);
    expect(linked.ok && linked.value.session).toBe(false);
    expect(await linksOf(t.id)).toEqual([{ subject: "sol-at-idp", user_id: u.id }]);
  });

  it("the route asks for the password, and with two-factor on a code, before going to the provider; users only", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "tom@example.com");
    const link = (token: string, body: Record<string, unknown>) =>
      p.call("/api/v1/me/sso/link", { tenant: t.slug, token, body });
    const wrong = await link(u.token, { password: "not my password at all" });
    expect([wrong.status, wrong.body.code]).toEqual([403, "wrong_password"]);
    await p.enrol(u.token);
    const noCode = await link(u.token, { password: PASSWORD });
    expect([noCode.status, noCode.body.code]).toEqual([403, "wrong_two_factor_code"]);
    const byKey = await link(t.adminKey, { password: PASSWORD });
    expect(byKey.status).toBe(403);
    const bad = await link(u.token, { password: PASSWORD, code: "123456", recovery_code: "abcd-efgh-ijkl" });
    expect(bad.status).toBe(400);
  });
});
