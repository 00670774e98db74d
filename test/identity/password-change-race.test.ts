// A change of password (and every change proven with the password: deleting the account, changing its
// address, unlinking its provider) verifies the current one in the Worker (an Argon2 run, off the directory's
// thread) against the hash passwordHashOf gave, then asks the directory to set the new one. An
// administrator's reset with sign_out (a suspected compromise: it voids the password) committed in
// that gap must not be overwritten by whoever holds the old password and a live access token, as a
// login's loginSucceeded refuses it (admin-password-reset-void.test.ts).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { hasher } from "../../src/modules/identity/services";
import { call, newTenant, newUser, PASSWORD } from "./helpers";
import { ssoKit } from "./sso-helpers";
import { platformAt } from "./two-factor-helpers";

const NEW_PASSWORD = "an entirely new passphrase";

const storedHash = (tenantId: string, userId: string) =>
  runInDurableObject(
    env.TENANT_DIRECTORY.getByName(tenantId),
    (_, st) => st.storage.sql.exec<{ h: string }>("select password_hash as h from users where id = ?", userId).one().h,
  );

/** A member whose password hash was read (to verify it) before a reset with sign_out voided it. */
async function resetMidProof(prefix: string) {
  const t = await newTenant(prefix);
  const member = await newUser(t.slug);
  const dir = directory(env, t.id);
  const verifiedHash = (await dir.passwordHashOf(member.id)) ?? "";
  expect(verifiedHash).not.toBe("");
  const reset = await call(`/api/v1/users/${member.id}/password-reset`, {
    token: t.adminKey,
    body: { sign_out: true },
  });
  expect(reset.status, JSON.stringify(reset.body)).toBe(202);
  const ctx = { now: new Date().toISOString(), actor: { kind: "user" as const, id: member.id }, requestId: null };
  return { t, member, dir, verifiedHash, ctx };
}

describe("a change of password while an administrator's reset voids the password", () => {
  it("refuses the hash the reset voided and keeps the reset's void", async () => {
    const { t, member, dir, verifiedHash, ctx } = await resetMidProof("pw-change-race");
    const changed = await dir.changePassword({
      ctx,
      userId: member.id,
      passwordHash: await hasher.hash(NEW_PASSWORD),
      keepFamily: null,
      verifiedHash,
    });
    expect(changed).toEqual({ ok: false, error: "password_changed" });
    expect(await storedHash(t.id, member.id)).toBe("!reset");
    const login = (password: string) =>
      call("/api/v1/auth/login", { tenant: t.slug, body: { email: member.email, password } });
    expect((await login(NEW_PASSWORD)).status).toBe(401);
    expect((await login(PASSWORD)).status).toBe(401);
  });

  it("sets the new password over the hash it verified", async () => {
    const t = await newTenant("pw-change-race-ok");
    const member = await newUser(t.slug);
    const changed = await call("/api/v1/auth/change-password", {
      token: member.access_token,
      body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(204);
    const login = (password: string) =>
      call("/api/v1/auth/login", { tenant: t.slug, body: { email: member.email, password } });
    expect((await login(NEW_PASSWORD)).status).toBe(200);
    expect((await login(PASSWORD)).status).toBe(401);
  });
});

describe("a change proven with the password while an administrator's reset voids it", () => {
  it("keeps the account: no deletion for the voided hash", async () => {
    const { t, member, dir, verifiedHash, ctx } = await resetMidProof("pw-proof-delete");
    const deleted = await dir.deleteOwnAccount({ ctx, userId: member.id, proof: null, recipient: null, verifiedHash });
    expect(deleted).toEqual({ ok: false, error: "password_changed" });
    expect(await dir.getUser(member.id)).toMatchObject({ id: member.id, email: member.email });
    expect(await storedHash(t.id, member.id)).toBe("!reset");
  });

  it("keeps the address: no change asked, no token stored, for the voided hash", async () => {
    const { member, dir, verifiedHash, ctx } = await resetMidProof("pw-proof-email");
    const asked = await dir.requestEmailChange({
      ctx,
      userId: member.id,
      newEmail: `taken-over-${crypto.randomUUID()}@example.com`,
      tokenHash: "e".repeat(64),
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      keepFamily: null,
      proof: null,
      verifiedHash,
    });
    expect(asked).toEqual({ ok: false, error: "password_changed" });
    // The token the request would have stored changes nothing.
    expect(await dir.confirmEmailChange({ ctx, tokenHash: "e".repeat(64) })).toEqual({ ok: false, error: "invalid" });
    expect(await dir.getUser(member.id)).toMatchObject({ email: member.email });
  });
});

describe("linking or unlinking a provider while an administrator's reset voids the password", () => {
  const p = platformAt("2032-06-01T00:00:10.000Z");
  const { tenantWithSso, signInWithToken } = ssoKit(p, "pw-proof-sso");

  it("begins no link and unlinks nothing for the voided hash", async () => {
    const t = await tenantWithSso();
    const ada = await p.user(t.slug, "ada@example.com");
    const linked = await signInWithToken(t.id, "ada-at-idp", ada.email);
    expect(linked.result.ok).toBe(true);
    const dir = directory(env, t.id);
    const verifiedHash = (await dir.passwordHashOf(ada.id)) ?? "";
    expect(verifiedHash).not.toBe("");
    const reset = await p.call(`/api/v1/users/${ada.id}/password-reset`, {
      token: t.adminKey,
      body: { sign_out: true },
    });
    expect(reset.status, JSON.stringify(reset.body)).toBe(202);

    const ctx = { now: p.clock.now().toISOString(), actor: { kind: "user" as const, id: ada.id }, requestId: null };
    const begun = await dir.ssoBegin({ ctx, link: { userId: ada.id, proof: null, verifiedHash } });
    expect(begun).toEqual({ ok: false, error: "password_changed" });
    const unlinked = await dir.ssoUnlinkOwn({ ctx, userId: ada.id, proof: null, verifiedHash });
    expect(unlinked).toEqual({ ok: false, error: "password_changed" });
    // Still linked: the provider's sign-in reaches the account, as after any reset.
    const again = await signInWithToken(t.id, "ada-at-idp", ada.email);
    expect(again.result.ok && again.result.value.principal.id).toBe(ada.id);
  });
});
