// Accepting an invitation as an existing account verifies its password in the Worker (an Argon2 run,
// off the directory's thread) against the hash invitationLookup gave: an administrator's reset with
// sign_out (which voids the password), or a change of password, committed meanwhile must not let the
// old password in, as a login's loginSucceeded and loginSecondFactor refuse it (admin-password-reset-void.test.ts).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/kernel/crypto";
import { directory } from "../../src/modules/identity/directory/contract";
import { call, mailTo, newTenant, newUser, PASSWORD, tokenIn } from "./helpers";

const NEW_PASSWORD = "an entirely new passphrase";

/** A member of a new tenant, invited into `viewer`, with the invitation's token as the lookup sees it. */
async function invitedMember(prefix: string) {
  const t = await newTenant(prefix);
  const member = await newUser(t.slug);
  const res = await call("/api/v1/admin/invitations", {
    token: t.adminKey,
    body: { email: member.email, roles: ["viewer"] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const token = tokenIn(await mailTo(t.slug, member.email, "You are invited"));
  const tokenHash = await sha256Hex(token);
  const dir = directory(env, t.id);
  const looked = await dir.invitationLookup({ tokenHash, now: new Date().toISOString() });
  expect(looked?.existing?.userId).toBe(member.id);
  return { t, member, dir, token, tokenHash, verifiedHash: looked?.existing?.passwordHash ?? "" };
}

/** The member's stored hash, roles, the sessions started by the test, and whether the invitation is still pending. */
const stateOf = (tenantId: string, userId: string) =>
  runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), (_, st) =>
    st.storage.sql
      .exec<{ h: string; roles: number; late: number; pending: number }>(
        `select password_hash as h,
           (select count(*) from role_bindings where user_id = ?1 and role = 'viewer') as roles,
           (select count(*) from token_families where id like 'f-late-%') as late,
           (select count(*) from invitations where accepted_at is null and revoked_at is null) as pending
         from users where id = ?1`,
        userId,
      )
      .one(),
  );

describe("accepting an invitation while the account's password is voided or changed", () => {
  for (const withSession of [true, false]) {
    // Without a session: the account has two-factor on, and the roles would be granted before its second step.
    it(`refuses the hash a reset with sign_out voided: no roles, no session, the invitation stays pending (session: ${withSession})`, async () => {
      const { t, member, dir, tokenHash, verifiedHash } = await invitedMember("inv-race-void");
      const reset = await call(`/api/v1/users/${member.id}/password-reset`, {
        token: t.adminKey,
        body: { sign_out: true },
      });
      expect(reset.status, JSON.stringify(reset.body)).toBe(202);

      const accepted = await dir.acceptInvitation({
        ctx: { now: new Date().toISOString(), actor: { kind: "user", id: member.id }, requestId: null },
        tokenHash,
        newUser: null,
        existing: { userId: member.id, verifiedHash },
        session: withSession ? { familyId: `f-late-${crypto.randomUUID()}`, refreshHash: "c".repeat(64) } : null,
        userAgent: null,
      });
      expect(accepted).toEqual({ ok: false, error: "password_changed" });
      expect(await stateOf(t.id, member.id)).toEqual({ h: "!reset", roles: 0, late: 0, pending: 1 });
    });
  }

  it("refuses the hash a change of password replaced, and keeps the new one", async () => {
    const { t, member, dir, token, tokenHash, verifiedHash } = await invitedMember("inv-race-change");
    const changed = await call("/api/v1/auth/change-password", {
      token: member.access_token,
      body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(204);
    const before = await stateOf(t.id, member.id);

    const accepted = await dir.acceptInvitation({
      ctx: { now: new Date().toISOString(), actor: { kind: "user", id: member.id }, requestId: null },
      tokenHash,
      newUser: null,
      existing: { userId: member.id, verifiedHash },
      session: { familyId: `f-late-${crypto.randomUUID()}`, refreshHash: "d".repeat(64) },
      userAgent: null,
    });
    expect(accepted).toEqual({ ok: false, error: "password_changed" });
    expect(await stateOf(t.id, member.id)).toEqual(before);
    expect(before).toMatchObject({ roles: 0, late: 0, pending: 1 });

    // The token still works, with the password that is the account's now.
    const now = await call("/api/v1/auth/accept-invitation", {
      tenant: t.slug,
      body: { token, password: NEW_PASSWORD, name: "ignored" },
    });
    expect(now.status, JSON.stringify(now.body)).toBe(200);
    expect(await stateOf(t.id, member.id)).toMatchObject({ roles: 1, pending: 0 });
  });
});
