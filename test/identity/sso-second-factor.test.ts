// plinth's second factor belongs to the account, whichever first factor signs it in: a sign-in through
// the tenant's identity provider into an account with two-factor on gets the challenge password login
// gives, and one into an account the tenant requires two-factor of (`require_two_factor_for_admins`)
// that has not enrolled is refused as password login refuses it. Identities linked before the user
// enrolled, or before the tenant turned the setting on, used to sign in past both.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { auditSettled } from "./helpers";
import { ssoKit, verifiedHashOf } from "./sso-helpers";
import { codeAt, platformAt } from "./two-factor-helpers";

const p = platformAt("2026-05-01T10:00:00.000Z");

/** The permissions `require_two_factor_for_admins` covers, as the Worker sends them (a sample of the declared `admin.*`). */
const ADMIN_PERMISSIONS = ["admin.audit.read", "admin.roles.write", "admin.settings.write"];

const { tenantWithSso, signIn, signInWithToken, linksOf } = ssoKit(p, "sso-2fa", ADMIN_PERMISSIONS);

/** The user's sessions (families), oldest first, with the provider identity that signed each in. */
const sessionsOf = (tenantId: string, userId: string) =>
  runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_, state) =>
    state.storage.sql
      .exec<{ sso_subject: string | null }>(
        "select sso_subject from token_families where user_id = ? order by created_at, id",
        userId,
      )
      .toArray()
      .map((r) => r.sso_subject),
  );

const requireForAdmins = async (adminKey: string, on: boolean) => {
  const res = await p.call("/api/v1/admin/settings", {
    method: "PATCH",
    token: adminKey,
    body: { require_two_factor_for_admins: on },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
};

/** A user of the tenant with the `admin` role and an access token. */
async function adminOf(t: { slug: string; adminKey: string }, email: string) {
  const u = await p.user(t.slug, email);
  const granted = await p.call(`/api/v1/admin/users/${u.id}/roles/admin`, { method: "PUT", token: t.adminKey });
  expect(granted.status, JSON.stringify(granted.body)).toBe(204);
  return u;
}

/** The directory's side of `POST /me/sso/link`: the proof checked for a sign-in that links `userId` only. */
const beginLink = async (tenantId: string, userId: string, proof: { step: number } | null) =>
  directory(env, tenantId).ssoBegin({
    ctx: { now: p.clock.now().toISOString(), actor: { kind: "user", id: userId }, requestId: null },
    link: { userId, proof, verifiedHash: await verifiedHashOf(tenantId, userId) },
    adminPermissions: ADMIN_PERMISSIONS,
  });

const completeLogin = (slug: string, body: Record<string, unknown>) =>
  p.call("/api/v1/auth/two-factor", { tenant: slug, body });

describe("a sign-in through the provider into an account that must present plinth's second factor", () => {
  it("an administrator linked before require_two_factor_for_admins was turned on, not enrolled: refused as password login refuses them", async () => {
    const t = await tenantWithSso();
    const admin = await adminOf(t, "amy@example.com");
    // Linked by email while the setting was off: allowed then.
    expect((await signIn(t.id, "amy-at-idp", "amy@example.com")).ok).toBe(true);
    await requireForAdmins(t.adminKey, true);

    const password = await p.login(t.slug, "amy@example.com");
    expect([password.status, password.body.code]).toEqual([403, "two_factor_required"]);
    expect(await signIn(t.id, "amy-at-idp", "amy@example.com")).toEqual({ ok: false, error: "two_factor_required" });
    // No session started by the refused sign-in (the registration's login and the first SSO one only).
    expect(await sessionsOf(t.id, admin.id)).toEqual([null, "amy-at-idp"]);
    await auditSettled(t.slug, t.adminKey, p.call);
    const refused = await p.auditOf(t.adminKey, "identity.login.two_factor_refused", 2);
    expect(refused.map((e) => [e.target, e.actor])).toEqual([
      [`${t.id}/user/${admin.id}`, { kind: "user", id: admin.id }],
      [`${t.id}/user/${admin.id}`, { kind: "user", id: admin.id }],
    ]);

    // With the setting off again, the identity signs in as before.
    await requireForAdmins(t.adminKey, false);
    expect((await signIn(t.id, "amy-at-idp", "amy@example.com")).ok).toBe(true);
  });

  it("an administrator linked before the setting, enrolled: the challenge, completed with a code into a session of the identity", async () => {
    const t = await tenantWithSso();
    const admin = await adminOf(t, "abby@example.com");
    expect((await signIn(t.id, "abby-at-idp", "abby@example.com")).ok).toBe(true);
    const { secret } = await p.enrol(admin.token);
    await requireForAdmins(t.adminKey, true);

    const started = await signInWithToken(t.id, "abby-at-idp", "abby@example.com");
    expect(started.result).toEqual({ ok: false, error: "two_factor_challenge" });
    // Nothing started yet: the refresh token the callback would have handed out is no session.
    expect(await sessionsOf(t.id, admin.id)).toEqual([null, "abby-at-idp"]);
    const unstarted = await p.call("/api/v1/auth/refresh", {
      tenant: t.slug,
      body: { refresh_token: started.refreshToken },
    });
    expect(unstarted.status).toBe(401);

    const wrong = await completeLogin(t.slug, { challenge: started.challenge, code: "000000" });
    expect(wrong.status).toBe(401);
    p.clock.advance(30_000);
    const done = await completeLogin(t.slug, { challenge: started.challenge, code: codeAt(secret, p.clock) });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(typeof done.body.access_token).toBe("string");
    // The session is the identity's (unlinking it ends it) and recorded as its sign-in.
    expect(await sessionsOf(t.id, admin.id)).toEqual([null, "abby-at-idp", "abby-at-idp"]);
    await auditSettled(t.slug, t.adminKey, p.call);
    const logins = await p.auditOf(t.adminKey, "identity.sso.login", 2);
    expect(logins).toHaveLength(2);
    const replay = await completeLogin(t.slug, { challenge: started.challenge, code: codeAt(secret, p.clock, 1) });
    expect(replay.status).toBe(401);
  });

  it("any account with two-factor on, linked before its user enrolled: the challenge, not a session", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "mia@example.com");
    expect((await signIn(t.id, "mia-at-idp", "mia@example.com")).ok).toBe(true);
    const { recoveryCodes } = await p.enrol(u.token);

    const started = await signInWithToken(t.id, "mia-at-idp", "mia@example.com");
    expect(started.result).toEqual({ ok: false, error: "two_factor_challenge" });
    expect(await sessionsOf(t.id, u.id)).toEqual([null, "mia-at-idp"]);
    // A recovery code completes it as it completes a password login.
    const done = await completeLogin(t.slug, { challenge: started.challenge, recovery_code: recoveryCodes[0] });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(await sessionsOf(t.id, u.id)).toEqual([null, "mia-at-idp", "mia-at-idp"]);
  });

  it("an explicit link gave the code at its request: its callback links without asking again (no session); the next sign-in asks", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "lea@example.com");
    await p.enrol(u.token);
    p.clock.advance(30_000);
    const step = Math.floor(p.clock.now().getTime() / 30_000);
    const begun = await beginLink(t.id, u.id, { step });
    expect(begun).toEqual({ ok: true, value: { secondFactor: true, recoveryHash: null } });
    const linked = await signIn(t.id, "lea-at-idp", "lea@example.com", u.id);
    expect(linked).toMatchObject({ ok: true, value: { session: false, principal: { id: u.id } } });
    expect(await linksOf(t.id)).toEqual([{ subject: "lea-at-idp", user_id: u.id }]);
    // The user is signed in already (the password session p.user made): the link started none.
    expect(await sessionsOf(t.id, u.id)).toEqual([null]);
    expect(await signIn(t.id, "lea-at-idp", "lea@example.com")).toEqual({ ok: false, error: "two_factor_challenge" });
  });

  it("an explicit link begun before its user enrolled: the callback asks the second step the request never proved", async () => {
    // The link's request gave a password only (no two-factor then); two-factor turned on before the
    // callback must not be skipped because the link "gave its proof at the request".
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "liv@example.com");
    // What the link's state carries to its callback (sealed: sso/state.ts).
    const begun = await beginLink(t.id, u.id, null);
    if (!begun.ok) throw new Error(JSON.stringify(begun));
    expect(begun.value).toEqual({ secondFactor: false, recoveryHash: null });
    const { secret } = await p.enrol(u.token);

    const { recoveryHash, secondFactor } = begun.value;
    const started = await signInWithToken(t.id, "liv-at-idp", "liv@example.com", u.id, recoveryHash, secondFactor);
    expect(started.result).toEqual({ ok: false, error: "two_factor_challenge" });
    expect(await sessionsOf(t.id, u.id)).toEqual([null]);
    // Nothing linked yet: the link waits on the second step, as the session does.
    expect(await linksOf(t.id)).toEqual([]);
    p.clock.advance(30_000);
    const done = await completeLogin(t.slug, { challenge: started.challenge, code: codeAt(secret, p.clock) });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    // Completing the challenge performs the link the user began (it used to sign in and link nothing,
    // leaving the user to begin the link again): the identity is theirs and the session is its own.
    expect(await linksOf(t.id)).toEqual([{ subject: "liv-at-idp", user_id: u.id }]);
    expect(await sessionsOf(t.id, u.id)).toEqual([null, "liv-at-idp"]);
    const linkedEntries = await p.auditOf(t.adminKey, "identity.sso.linked");
    expect(linkedEntries.map((e) => e.actor)).toEqual([{ kind: "user", id: u.id }]);
    // The identity now signs its user in like any linked one, with plinth's second step.
    expect(await signIn(t.id, "liv-at-idp", "liv@example.com")).toEqual({ ok: false, error: "two_factor_challenge" });
  });

  it("a link waiting on the second step links nothing if the account was linked to another identity meanwhile", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "noa@example.com");
    const begun = await beginLink(t.id, u.id, null);
    if (!begun.ok) throw new Error(JSON.stringify(begun));
    const { secret } = await p.enrol(u.token);
    const started = await signInWithToken(t.id, "noa-at-idp", "noa@example.com", u.id, null, false);
    expect(started.result).toEqual({ ok: false, error: "two_factor_challenge" });
    // Meanwhile another link, proven with a code, ties another identity of the provider to the account.
    const other = await signIn(t.id, "noa-elsewhere", "noa@example.com", u.id);
    expect(other.ok).toBe(true);

    p.clock.advance(30_000);
    const done = await completeLogin(t.slug, { challenge: started.challenge, code: codeAt(secret, p.clock) });
    expect(done.status, JSON.stringify(done.body)).toBe(403);
    expect(done.body.code).toBe("sso_identity_conflict");
    expect(await linksOf(t.id)).toEqual([{ subject: "noa-elsewhere", user_id: u.id }]);
    const refused = await p.auditOf(t.adminKey, "identity.sso.refused");
    expect(refused[0]?.detail).toEqual({ reason: "identity_conflict" });
  });

  it("an explicit link of an administrator the tenant requires two-factor of, not enrolled: refused at the request and at the callback", async () => {
    const t = await tenantWithSso();
    const admin = await adminOf(t, "ari@example.com");
    await requireForAdmins(t.adminKey, true);
    // The directory's side of POST /me/sso/link (the route answers 403 two_factor_required).
    expect(await beginLink(t.id, admin.id, null)).toEqual({ ok: false, error: "two_factor_required" });
    // Begun before the setting was turned on: the callback refuses it, nothing linked.
    expect(await signIn(t.id, "ari-at-idp", "ari@example.com", admin.id)).toEqual({
      ok: false,
      error: "two_factor_required",
    });
    expect(await linksOf(t.id)).toEqual([]);
  });

  it("a user the setting does not cover, without two-factor, signs in as before", async () => {
    const t = await tenantWithSso();
    await requireForAdmins(t.adminKey, true);
    const u = await p.user(t.slug, "moe@example.com");
    const res = await signIn(t.id, "moe-at-idp", "moe@example.com");
    expect(res.ok && res.value.principal.id).toBe(u.id);
  });
});
