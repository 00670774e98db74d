// A sign-in through the provider into an account with two-factor on answers a challenge that lives 5
// minutes; completing it (POST /auth/two-factor) signs that identity in, or links it. A callback is
// refused once the provider it was begun at is replaced (issuer or client) or deleted: its state was
// sealed for that provider (400 sso_state_invalid). The challenge the callback answered used to
// complete all the same, so an identity of the old issuer still signed in, or was linked, minutes
// after the owner replaced the provider. It is now refused as the callback would be.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { CLIENT_ID, ISSUER, ssoKit, verifiedHashOf } from "./sso-helpers";
import { codeAt, platformAt } from "./two-factor-helpers";

const p = platformAt("2026-07-01T10:00:00.000Z");
const { tenantWithSso, signIn, signInWithToken, linksOf } = ssoKit(p, "sso-2fa-provider");

/** The provider as tenantWithSso configures it, with `change` applied (the owner key's PUT). */
const putProvider = async (ownerKey: string, change: Record<string, unknown>) => {
  const res = await p.call("/api/v1/admin/sso", {
    method: "PUT",
    token: ownerKey,
    body: { issuer: ISSUER, client_id: CLIENT_ID, allowed_domains: ["example.com"], ...change },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
};

/** The user's sessions (families), by the provider identity that signed each in (null: a password). */
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

const complete = (slug: string, body: Record<string, unknown>) =>
  p.call("/api/v1/auth/two-factor", { tenant: slug, body });

/** A user whose identity `subject` is linked (by email, before two-factor), then enrolled; at the challenge of a sign-in through the provider. */
async function challenged(subject: string, email: string) {
  const t = await tenantWithSso();
  const u = await p.user(t.slug, email);
  expect((await signIn(t.id, subject, email)).ok).toBe(true);
  const { secret, recoveryCodes } = await p.enrol(u.token);
  const started = await signInWithToken(t.id, subject, email);
  expect(started.result).toEqual({ ok: false, error: "two_factor_challenge" });
  p.clock.advance(30_000);
  return { t, u, secret, recoveryCodes, challenge: started.challenge };
}

const remaining = async (token: string) =>
  (await p.call("/api/v1/me/two-factor", { token })).body.recovery_codes_remaining;

describe("completing the challenge of a sign-in through the provider", () => {
  it("is refused once the provider was replaced (another issuer), as its callback would be; nothing is spent", async () => {
    const { t, u, secret, recoveryCodes, challenge } = await challenged("iva-at-idp", "iva@example.com");
    await putProvider(t.adminKey, { issuer: "https://login.elsewhere.example.com" });

    const refused = await complete(t.slug, { challenge, code: codeAt(secret, p.clock) });
    expect(refused.status, JSON.stringify(refused.body)).toBe(400);
    expect(refused.body.code).toBe("sso_state_invalid");
    expect(refused.body).not.toHaveProperty("access_token");
    // No session of the old issuer's identity: the password one and its first sign-in only.
    expect(await sessionsOf(t.id, u.id)).toEqual([null, "iva-at-idp"]);
    // Refused before the code is checked: a recovery code is still the user's.
    const byRecovery = await complete(t.slug, { challenge, recovery_code: recoveryCodes[0] });
    expect([byRecovery.status, byRecovery.body.code]).toEqual([400, "sso_state_invalid"]);
    expect(await remaining(u.token)).toBe(10);

    // The same provider configured again within the challenge's minutes: it completes, as a state
    // sealed for that provider opens again.
    await putProvider(t.adminKey, {});
    const done = await complete(t.slug, { challenge, code: codeAt(secret, p.clock) });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(await sessionsOf(t.id, u.id)).toEqual([null, "iva-at-idp", "iva-at-idp"]);
  });

  it("is refused once the provider was deleted, or its client replaced", async () => {
    const deleted = await challenged("ida-at-idp", "ida@example.com");
    const removed = await p.call("/api/v1/admin/sso", { method: "DELETE", token: deleted.t.adminKey });
    expect(removed.status).toBe(204);
    const afterDelete = await complete(deleted.t.slug, {
      challenge: deleted.challenge,
      code: codeAt(deleted.secret, p.clock),
    });
    expect([afterDelete.status, afterDelete.body.code]).toEqual([400, "sso_state_invalid"]);
    expect(await sessionsOf(deleted.t.id, deleted.u.id)).toEqual([null, "ida-at-idp"]);

    const reclient = await challenged("ina-at-idp", "ina@example.com");
    await putProvider(reclient.t.adminKey, { client_id: "plinth-2" });
    const afterClient = await complete(reclient.t.slug, {
      challenge: reclient.challenge,
      code: codeAt(reclient.secret, p.clock),
    });
    expect([afterClient.status, afterClient.body.code]).toEqual([400, "sso_state_invalid"]);
  });

  it("completes while the provider is the same one: a change of who gets which role is no new provider", async () => {
    const { t, u, secret, challenge } = await challenged("ivy-at-idp", "ivy@example.com");
    await putProvider(t.adminKey, { jit: true, default_role: "viewer" });
    const done = await complete(t.slug, { challenge, code: codeAt(secret, p.clock) });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(typeof done.body.access_token).toBe("string");
    expect(await sessionsOf(t.id, u.id)).toEqual([null, "ivy-at-idp", "ivy-at-idp"]);
  });

  it("a challenge from before its client was recorded is good for no provider: its user signs in again", async () => {
    const { t, secret, challenge } = await challenged("ike-at-idp", "ike@example.com");
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      state.storage.sql.exec("update one_time_tokens set sso_client_id = null where sso_issuer is not null");
    });
    const refused = await complete(t.slug, { challenge, code: codeAt(secret, p.clock) });
    expect([refused.status, refused.body.code]).toEqual([400, "sso_state_invalid"]);
  });

  it("a password login's challenge does not depend on the provider", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "ines@example.com");
    const { secret } = await p.enrol(u.token);
    const login = await p.login(t.slug, "ines@example.com");
    expect(login.body.two_factor_required).toBe(true);
    expect((await p.call("/api/v1/admin/sso", { method: "DELETE", token: t.adminKey })).status).toBe(204);
    p.clock.advance(30_000);
    const done = await complete(t.slug, { challenge: login.body.challenge, code: codeAt(secret, p.clock) });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
  });
});

describe("completing the challenge of an explicit link interrupted by two-factor", () => {
  it("links nothing once the provider was replaced", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "isa@example.com");
    // The link's request proved no second factor (none then); the user enrolled before the callback.
    const begun = await directory(env, t.id).ssoBegin({
      ctx: { now: p.clock.now().toISOString(), actor: { kind: "user", id: u.id }, requestId: null },
      link: { userId: u.id, proof: null, verifiedHash: await verifiedHashOf(t.id, u.id) },
    });
    expect(begun).toEqual({ ok: true, value: { secondFactor: false, recoveryHash: null } });
    const { secret } = await p.enrol(u.token);
    const started = await signInWithToken(t.id, "isa-at-idp", "isa@example.com", u.id, null, false);
    expect(started.result).toEqual({ ok: false, error: "two_factor_challenge" });

    await putProvider(t.adminKey, { issuer: "https://login.elsewhere.example.com" });
    p.clock.advance(30_000);
    const refused = await complete(t.slug, { challenge: started.challenge, code: codeAt(secret, p.clock) });
    expect([refused.status, refused.body.code]).toEqual([400, "sso_state_invalid"]);
    expect(await linksOf(t.id)).toEqual([]);
    expect(await sessionsOf(t.id, u.id)).toEqual([null]);
  });
});

describe("a callback whose provider was replaced while it was at the provider", () => {
  it("is refused by the directory when the ID token was verified for another client than the tenant's now", async () => {
    const t = await tenantWithSso();
    await p.user(t.slug, "ola@example.com");
    // The Worker read the provider, and verified the ID token for its client; an owner replaced the
    // client before the directory signed the person in.
    await putProvider(t.adminKey, { client_id: "plinth-2" });
    const { result } = await signInWithToken(t.id, "ola-at-idp", "ola@example.com");
    // The state was valid for a provider that is gone: the sign-in starts again (400 sso_state_invalid,
    // as a callback of a replaced provider gets at its state and at its challenge), not "none configured".
    expect(result).toEqual({ ok: false, error: "provider_replaced" });
    expect(await linksOf(t.id)).toEqual([]);
  });

  it("is refused as replaced when the provider was deleted while the Worker was at the token endpoint", async () => {
    const t = await tenantWithSso();
    await p.user(t.slug, "oda@example.com");
    expect((await p.call("/api/v1/admin/sso", { method: "DELETE", token: t.adminKey })).status).toBe(204);
    const { result } = await signInWithToken(t.id, "oda-at-idp", "oda@example.com");
    expect(result).toEqual({ ok: false, error: "provider_replaced" });
    expect(await linksOf(t.id)).toEqual([]);
  });
});

describe("completing the challenge of a sign-in once allowed_domains no longer has the email's domain", () => {
  it("is refused as the callback refuses that domain (403 sso_domain_not_allowed); nothing is spent", async () => {
    const { t, u, secret, recoveryCodes, challenge } = await challenged("ivo-at-idp", "ivo@example.com");
    // Only the domains are narrowed: the same issuer and client, so the provider is no new one.
    await putProvider(t.adminKey, { allowed_domains: ["example.org"] });

    const refused = await complete(t.slug, { challenge, code: codeAt(secret, p.clock) });
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body.code).toBe("sso_domain_not_allowed");
    expect(refused.body).not.toHaveProperty("access_token");
    expect(await sessionsOf(t.id, u.id)).toEqual([null, "ivo-at-idp"]);
    // Refused before the code is checked: a recovery code is still the user's.
    const byRecovery = await complete(t.slug, { challenge, recovery_code: recoveryCodes[0] });
    expect([byRecovery.status, byRecovery.body.code]).toEqual([403, "sso_domain_not_allowed"]);
    expect(await remaining(u.token)).toBe(10);

    // The domain allowed again within the challenge's minutes: it completes, as its callback would.
    await putProvider(t.adminKey, { allowed_domains: ["example.org", "example.com"] });
    const done = await complete(t.slug, { challenge, code: codeAt(secret, p.clock) });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
  });

  it("a challenge from before the email's domain was recorded is no longer good: its user signs in again", async () => {
    const { t, secret, challenge } = await challenged("ian-at-idp", "ian@example.com");
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_, state) => {
      state.storage.sql.exec("update one_time_tokens set sso_email_domain = null where sso_issuer is not null");
    });
    const refused = await complete(t.slug, { challenge, code: codeAt(secret, p.clock) });
    expect([refused.status, refused.body.code]).toEqual([401, "unauthenticated"]);
  });

  it("the directory refuses a callback whose domain was removed while the Worker was at the token endpoint", async () => {
    const t = await tenantWithSso();
    await p.user(t.slug, "oki@example.com");
    await putProvider(t.adminKey, { allowed_domains: ["example.org"] });
    const { result } = await signInWithToken(t.id, "oki-at-idp", "oki@example.com");
    expect(result).toEqual({ ok: false, error: "domain_not_allowed" });
    expect(await linksOf(t.id)).toEqual([]);
  });
});
