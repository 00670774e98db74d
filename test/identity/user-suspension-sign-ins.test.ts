import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { signInRefusal } from "../../src/modules/identity/sso/refusals";
import { call, mailTo, newTenant, newUser, PASSWORD, tokenIn } from "./helpers";
import { ssoKit } from "./sso-helpers";
import { codeAt, platformAt } from "./two-factor-helpers";

const suspend = (token: string, id: string, c = call) =>
  c(`/api/v1/users/${id}/suspend`, { token, method: "POST", body: { reason: "under review" } });
const reactivate = (token: string, id: string, c = call) =>
  c(`/api/v1/users/${id}/reactivate`, { token, method: "POST" });

// Every way into a suspended account is refused with the one error a login with its password gets,
// and only to a caller who proved the account: docs/identity.md#suspending-a-member.
describe("a suspended account's other ways in", () => {
  it("password reset: the mailed token is refused unspent, and works once the user is reactivated", async () => {
    const t = await newTenant("suspend-reset");
    const u = await newUser(t.slug);
    await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: u.email } });
    const token = tokenIn(await mailTo(t.slug, u.email, "Reset"));
    expect((await suspend(t.adminKey, u.id)).status).toBe(200);
    const body = { token, password: "a brand new passphrase" };
    const refused = await call("/api/v1/auth/password-reset/confirm", { tenant: t.slug, body });
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body.code).toBe("account_suspended");
    // The old password still stands: the refusal changed nothing.
    const right = await call("/api/v1/auth/login", { tenant: t.slug, body: { email: u.email, password: PASSWORD } });
    expect(right.body.code).toBe("account_suspended");
    // A made-up token is still what it was: 400, saying nothing of any account.
    const junk = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { ...body, token: "plp_x" },
    });
    expect(junk.status).toBe(400);

    expect((await reactivate(t.adminKey, u.id)).status).toBe(200);
    expect((await call("/api/v1/auth/password-reset/confirm", { tenant: t.slug, body })).status).toBe(204);
  });

  it("invitation: an existing suspended account gains no roles and no session; the invitation stays pending", async () => {
    const t = await newTenant("suspend-invite");
    const u = await newUser(t.slug);
    const inv = await call("/api/v1/admin/invitations", {
      token: t.adminKey,
      body: { email: u.email, roles: ["viewer"] },
    });
    expect(inv.status, JSON.stringify(inv.body)).toBe(201);
    const token = tokenIn(await mailTo(t.slug, u.email, "You are invited"));
    expect((await suspend(t.adminKey, u.id)).status).toBe(200);

    const wrong = await call("/api/v1/auth/accept-invitation", {
      tenant: t.slug,
      body: { token, password: "not the password at all", name: "X" },
    });
    expect(wrong.status).toBe(401);
    const res = await call("/api/v1/auth/accept-invitation", {
      tenant: t.slug,
      body: { token, password: PASSWORD, name: "X" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.code).toBe("account_suspended");
    const after = await call(`/api/v1/admin/invitations/${inv.body.id}`, { token: t.adminKey });
    expect(after.body.status).toBe("pending");
    const user = await call(`/api/v1/users/${u.id}`, { token: t.adminKey });
    expect(user.body.roles).toEqual(["member"]);
  });

  it("two-factor: a challenge earned before the suspension completes no login", async () => {
    const p = platformAt("2032-03-01T00:00:10.000Z");
    const t = await p.tenant("suspend-tfa");
    const ada = await p.user(t.slug, "ada@example.com");
    const { secret } = await p.enrol(ada.token);
    const first = await p.login(t.slug, ada.email);
    const challenge = String(first.body.challenge);
    expect((await suspend(t.adminKey, ada.id, p.call)).status).toBe(200);

    p.clock.advance(30_000);
    const done = await p.call("/api/v1/auth/two-factor", {
      tenant: t.slug,
      body: { challenge, code: codeAt(secret, p.clock) },
    });
    expect(done.status, JSON.stringify(done.body)).toBe(403);
    expect(done.body.code).toBe("account_suspended");
    // The password step itself says the same, before any challenge.
    expect((await p.login(t.slug, ada.email)).body.code).toBe("account_suspended");
  });

  it("single sign-on: the provider's word for a suspended account starts no session", async () => {
    const p = platformAt("2032-03-02T00:00:10.000Z");
    const { tenantWithSso, signIn } = ssoKit(p, "suspend-sso");
    const t = await tenantWithSso();
    const ada = await p.user(t.slug, "ada@example.com");
    expect((await signIn(t.id, "sub-ada", "ada@example.com")).ok).toBe(true);
    expect((await suspend(t.adminKey, ada.id, p.call)).status).toBe(200);

    const refused = await signIn(t.id, "sub-ada", "ada@example.com");
    expect(refused).toEqual({ ok: false, error: "suspended" });
    if (refused.ok || refused.error !== "suspended") throw new Error("not refused");
    const error = signInRefusal(refused);
    expect({ status: error.status, code: error.code }).toEqual({ status: 403, code: "account_suspended" });
    // No session was started for them.
    const sessions = await directory(env, t.id).listSessions({
      userId: ada.id,
      now: p.clock.now().toISOString(),
      page: { limit: 10, cursor: null },
    });
    expect(sessions.ok && sessions.value.items).toEqual([]);
  });
});
