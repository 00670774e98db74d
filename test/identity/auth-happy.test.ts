import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { isolateDigest } from "../../src/kernel/crypto";
import { verifiedTokens } from "../../src/modules/identity/authenticators";
import { grantedTo } from "./grants";
import { call, login, mailTo, newTenant, newUser, ORIGIN, PASSWORD, register, tokenIn } from "./helpers";

describe("auth (happy)", () => {
  it("registers a member with a normalised email and mails a verification token", async () => {
    const t = await newTenant();
    const user = await register(t.slug, "  Ada.Lovelace@Example.COM ", "Ada");
    expect(user).toMatchObject({
      email: "ada.lovelace@example.com",
      name: "Ada",
      roles: ["member"],
      email_verified: false,
    });
    expect(user).not.toHaveProperty("password_hash");
    const mail = await mailTo(t.slug, "ada.lovelace@example.com");
    expect(mail.subject).toContain("Verify");
    const verified = await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token: tokenIn(mail) } });
    expect(verified.status).toBe(204);
    const me = await call(`/api/v1/users/${user.id}`, { token: t.adminKey });
    expect(me.body.email_verified).toBe(true);
  });

  it("logs in and issues an EdDSA access token with the contract's claims", async () => {
    const t = await newTenant();
    const user = await register(t.slug, "grace@example.com");
    const tokens = await login(t.slug, "GRACE@example.com");
    expect(tokens).toMatchObject({ token_type: "Bearer", expires_in: 900 });
    expect(tokens.refresh_token).toMatch(/^plr_/);
    const header = decodeProtectedHeader(tokens.access_token);
    expect(header).toMatchObject({ alg: "EdDSA", typ: "JWT" });
    expect(typeof header.kid).toBe("string");

    const jwks = await call("/.well-known/jwks.json");
    expect(jwks.status).toBe(200);
    expect(JSON.stringify(jwks.body)).not.toContain('"d"');
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks.body as never), {
      issuer: ORIGIN,
      audience: "plinth",
    });
    expect(payload).toMatchObject({ sub: user.id, tid: t.id, roles: ["member"] });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900);
    expect(typeof payload.jti).toBe("string");
  });

  it("GET /me with a JWT shows the user and their effective permissions", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    const me = await call("/api/v1/me", { token: u.access_token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: "user", user: { id: u.id, email: u.email, roles: ["member"] } });
    // member: what the modules grant it, blog.post.create and blog.post.read among them (and, as
    // author, the author rule).
    expect(me.body.permissions).toEqual(expect.arrayContaining(["blog.post.create", "blog.post.read"]));
    expect(me.body.permissions).toEqual(grantedTo("member"));
  });

  it("caches a verified access token under the isolate's digest of it, never the token itself", async () => {
    // As verified API keys are: what an isolate's memory holds is no credential anywhere else.
    const t = await newTenant();
    const u = await newUser(t.slug);
    expect((await call("/api/v1/me", { token: u.access_token })).status).toBe(200);
    expect(verifiedTokens.get(u.access_token)).toBeUndefined();
    expect(verifiedTokens.get(isolateDigest(u.access_token))?.claims.sub).toBe(u.id);
  });

  it("refresh rotates: the new pair works, the old refresh token is spent", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    const next = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    expect(next.status).toBe(200);
    expect(next.body.refresh_token).not.toBe(u.refresh_token);
    expect((await call("/api/v1/me", { token: next.body.access_token as string })).status).toBe(200);
    const third = await call("/api/v1/auth/refresh", {
      tenant: t.slug,
      body: { refresh_token: next.body.refresh_token },
    });
    expect(third.status).toBe(200);
  });

  it("logout revokes the family: refresh fails and the access token stops working", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    const out = await call("/api/v1/auth/logout", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    expect(out.status).toBe(204);
    const again = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    expect(again.status).toBe(401);
    expect((await call("/api/v1/me", { token: u.access_token })).status).toBe(401);
    const unknown = await call("/api/v1/auth/logout", { tenant: t.slug, body: { refresh_token: "plr_unknown" } });
    expect(unknown.status).toBe(204);
  });

  it("password reset: mail, confirm, old password refused, new one works, sessions revoked", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    const asked = await call("/api/v1/auth/password-reset", { tenant: t.slug, body: { email: u.email } });
    expect(asked.status).toBe(202);
    // The verification mail of newUser is in the mailbox too, and may arrive after this one.
    const mail = await mailTo(t.slug, u.email, "Reset");
    expect(mail.subject).toContain("Reset");
    const newPassword = "an entirely new passphrase";
    const confirmed = await call("/api/v1/auth/password-reset/confirm", {
      tenant: t.slug,
      body: { token: tokenIn(mail), password: newPassword },
    });
    expect(confirmed.status).toBe(204);
    const refresh = await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    expect(refresh.status).toBe(401);
    expect((await call("/api/v1/me", { token: u.access_token })).status).toBe(401);
    const old = await call("/api/v1/auth/login", { tenant: t.slug, body: { email: u.email, password: PASSWORD } });
    expect(old.status).toBe(401);
    await login(t.slug, u.email, newPassword);
  });

  it("a password set with composed letters logs in when typed decomposed, and the other way round", async () => {
    const t = await newTenant();
    const composed = "Grüße aus Köln, 2026".normalize("NFC");
    const decomposed = composed.normalize("NFD");
    const res = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: "koeln@example.com", password: composed, name: "Köln" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await login(t.slug, "koeln@example.com", decomposed);
    await login(t.slug, "koeln@example.com", composed);
  });

  it("the same email in two tenants is two users", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const ua = await register(a.slug, "same@example.com");
    const ub = await register(b.slug, "same@example.com");
    expect(ua.id).not.toBe(ub.id);
    const ta = await login(a.slug, "same@example.com");
    const me = await call("/api/v1/me", { token: ta.access_token });
    expect((me.body.user as { id: string }).id).toBe(ua.id);
  });
});
