// An explicit link (POST /me/sso/link) of an account with two-factor on asks for a code or a recovery
// code at the request. A recovery code is one of ten, each working once: it is checked at the request
// and spent only by the callback that links, so a refused or abandoned callback does not cost the user
// one; and it still completes one change only.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { recoveryHash } from "../../src/modules/identity/two-factor";
import { auditSettled } from "./helpers";
import { ssoKit, verifiedHashOf } from "./sso-helpers";
import { platformAt } from "./two-factor-helpers";

const p = platformAt("2026-06-01T10:00:00.000Z");

const { tenantWithSso, signInWithToken, linksOf } = ssoKit(p, "sso-link-proof");

/**
 * The directory's side of `POST /me/sso/link` with a recovery code, and what the link's sealed state
 * carries to its callback (sso/state.ts): what the callback hands to the sign-in.
 */
async function beginWithRecovery(tenantId: string, userId: string, code: string) {
  const ctx = { now: p.clock.now().toISOString(), actor: { kind: "user" as const, id: userId }, requestId: null };
  const begun = await directory(env, tenantId).ssoBegin({
    ctx,
    link: {
      userId,
      proof: { recoveryHash: await recoveryHash(code) },
      verifiedHash: await verifiedHashOf(tenantId, userId),
    },
  });
  const take = async () => {
    if (!begun.ok) throw new Error("the link did not begin");
    return begun.value.recoveryHash;
  };
  return { begun, take };
}

const remaining = async (token: string) => {
  const res = await p.call("/api/v1/me/two-factor", { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.recovery_codes_remaining;
};

describe("an explicit link begun with a recovery code", () => {
  it("keeps the code through a refused callback, spends it when the link happens, and takes it once", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "rae@example.com");
    await p.user(t.slug, "rex@example.com");
    const { recoveryCodes } = await p.enrol(u.token);
    const code = recoveryCodes[0] ?? "";

    const first = await beginWithRecovery(t.id, u.id, code);
    const carried = { secondFactor: true, recoveryHash: await recoveryHash(code) };
    expect(first.begun).toEqual({ ok: true, value: carried });
    expect(await remaining(u.token)).toBe(10);
    // Signed in at the provider as someone else: refused, and the code is still the user's.
    const mismatch = await signInWithToken(t.id, "rex-at-idp", "rex@example.com", u.id, await first.take());
    expect(mismatch.result).toEqual({ ok: false, error: "link_mismatch" });
    expect(await remaining(u.token)).toBe(10);

    const second = await beginWithRecovery(t.id, u.id, code);
    expect(second.begun).toEqual({ ok: true, value: carried });
    const linked = await signInWithToken(t.id, "rae-at-idp", "rae@example.com", u.id, await second.take());
    expect(linked.result.ok && linked.result.value.principal.id).toBe(u.id);
    expect(await linksOf(t.id)).toEqual([{ subject: "rae-at-idp", user_id: u.id }]);
    expect(await remaining(u.token)).toBe(9);
    await auditSettled(t.slug, t.adminKey, p.call);
    const used = await p.auditOf(t.adminKey, "identity.two_factor.recovery_code_used");
    expect(used.map((e) => e.target)).toEqual([`${t.id}/user/${u.id}`]);

    // Spent: it begins nothing more.
    expect((await beginWithRecovery(t.id, u.id, code)).begun).toEqual({ ok: false, error: "wrong_proof" });
  });

  it("a repeat link of the identity already linked to the account links nothing and keeps the code", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "roy@example.com");
    const { recoveryCodes } = await p.enrol(u.token);
    const first = await beginWithRecovery(t.id, u.id, recoveryCodes[2] ?? "");
    await signInWithToken(t.id, "roy-at-idp", "roy@example.com", u.id, await first.take());
    expect(await remaining(u.token)).toBe(9);

    const again = await beginWithRecovery(t.id, u.id, recoveryCodes[3] ?? "");
    expect(again.begun.ok).toBe(true);
    const repeat = await signInWithToken(t.id, "roy-at-idp", "roy@example.com", u.id, await again.take());
    expect(repeat.result.ok && repeat.result.value).toMatchObject({ session: false, provisioned: false });
    expect(await linksOf(t.id)).toEqual([{ subject: "roy-at-idp", user_id: u.id }]);
    // Nothing new was linked: the code is still one of the user's, and no second use is recorded.
    expect(await remaining(u.token)).toBe(9);
    await auditSettled(t.slug, t.adminKey, p.call);
    const used = await p.auditOf(t.adminKey, "identity.two_factor.recovery_code_used");
    expect(used).toHaveLength(1);
    expect((await beginWithRecovery(t.id, u.id, recoveryCodes[3] ?? "")).begun.ok).toBe(true);
  });

  it("a repeat link whose code was used since changes nothing, so it is not refused: nothing is checked or spent", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "rio@example.com");
    const { recoveryCodes } = await p.enrol(u.token);
    const first = await beginWithRecovery(t.id, u.id, recoveryCodes[4] ?? "");
    await signInWithToken(t.id, "rio-at-idp", "rio@example.com", u.id, await first.take());
    const code = recoveryCodes[5] ?? "";
    const again = await beginWithRecovery(t.id, u.id, code);
    expect(again.begun.ok).toBe(true);
    // The code is used for a login meanwhile, as in the race below.
    const login = await p.login(t.slug, "rio@example.com");
    const done = await p.call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: login.body.challenge, recovery_code: code },
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);

    const repeat = await signInWithToken(t.id, "rio-at-idp", "rio@example.com", u.id, await again.take());
    expect(repeat.result.ok && repeat.result.value).toMatchObject({ session: false, provisioned: false });
    expect(await linksOf(t.id)).toEqual([{ subject: "rio-at-idp", user_id: u.id }]);
    // Two codes used in all: the first link's, and the login's.
    expect(await remaining(u.token)).toBe(8);
  });

  it("two links begun with one code: the first to link spends it, the other's callback is refused and links nothing", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "ray@example.com");
    const { recoveryCodes } = await p.enrol(u.token);
    const code = recoveryCodes[1] ?? "";
    const one = await beginWithRecovery(t.id, u.id, code);
    const two = await beginWithRecovery(t.id, u.id, code);
    expect([one.begun.ok, two.begun.ok]).toEqual([true, true]);
    // The code is used for a login meanwhile.
    const login = await p.login(t.slug, "ray@example.com");
    const done = await p.call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge: login.body.challenge, recovery_code: code },
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);

    const refused = await signInWithToken(t.id, "ray-at-idp", "ray@example.com", u.id, await one.take());
    expect(refused.result).toEqual({ ok: false, error: "wrong_proof" });
    expect(await linksOf(t.id)).toEqual([]);
    const failed = await p.auditOf(t.adminKey, "identity.login.two_factor_failed");
    expect(failed.map((e) => e.target)).toContain(`${t.id}/user/${u.id}`);
    expect(await remaining(u.token)).toBe(9);
  });

  it("a wrong recovery code begins nothing, and is recorded", async () => {
    const t = await tenantWithSso();
    const u = await p.user(t.slug, "roy@example.com");
    await p.enrol(u.token);
    const { begun } = await beginWithRecovery(t.id, u.id, "abcd-efgh-ijkl-mnop");
    expect(begun).toEqual({ ok: false, error: "wrong_proof" });
    await auditSettled(t.slug, t.adminKey, p.call);
    const failed = await p.auditOf(t.adminKey, "identity.login.two_factor_failed");
    expect(failed).toHaveLength(1);
    expect(await remaining(u.token)).toBe(10);
  });
});
