import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import type { TenantDirectory } from "../../durable-objects/tenant-directory";
import { call, newTenant, newUser, ORIGIN } from "./helpers";

const b64url = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

describe("tenant isolation", () => {
  it("a JWT of one tenant presented for another is tenant_mismatch", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const u = await newUser(a.slug);
    const res = await call("/api/v1/me", { token: u.access_token, tenant: b.slug });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("tenant_mismatch");
  });

  it("an API key of one tenant presented for another is tenant_mismatch, also for an unknown slug", async () => {
    const a = await newTenant();
    const b = await newTenant();
    expect((await call("/api/v1/users", { token: a.adminKey, tenant: b.slug })).body.code).toBe("tenant_mismatch");
    expect((await call("/api/v1/users", { token: a.adminKey, tenant: "zz-unknown" })).body.code).toBe(
      "tenant_mismatch",
    );
  });

  it("another tenant's user ids answer 404", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const ub = await newUser(b.slug);
    const res = await call(`/api/v1/users/${ub.id}`, { token: a.adminKey });
    expect(res.status).toBe(404);
  });

  it("a refresh token is bound to its tenant", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const u = await newUser(a.slug);
    const res = await call("/api/v1/auth/refresh", { tenant: b.slug, body: { refresh_token: u.refresh_token } });
    expect(res.status).toBe(401);
  });
});

describe("access token forgery", () => {
  async function claimsFor() {
    const t = await newTenant();
    const u = await newUser(t.slug);
    const [, payload] = u.access_token.split(".");
    return {
      t,
      u,
      claims: JSON.parse(atob((payload ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>,
    };
  }

  it("refuses alg none", async () => {
    const { u, claims } = await claimsFor();
    const token = `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}.`;
    expect((await call("/api/v1/me", { token })).status).toBe(401);
    expect((await call("/api/v1/me", { token: u.access_token })).status).toBe(200);
  });

  it("refuses HS256 signed with the public key (algorithm confusion)", async () => {
    const { claims } = await claimsFor();
    const jwks = (await call("/.well-known/jwks.json")).body as { keys: { x: string; kid: string }[] };
    const key = jwks.keys[0];
    if (!key) throw new Error("no key in JWKS");
    for (const secret of [key.x, JSON.stringify(key)]) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: key.kid })
        .sign(new TextEncoder().encode(secret));
      expect((await call("/api/v1/me", { token })).status).toBe(401);
    }
  });

  it("refuses a tampered payload, a wrong audience and a wrong issuer", async () => {
    const { u, claims } = await claimsFor();
    const [h, , s] = u.access_token.split(".");
    const tampered = `${h}.${b64url(JSON.stringify({ ...claims, roles: ["owner"] }))}.${s}`;
    expect((await call("/api/v1/me", { token: tampered })).status).toBe(401);

    // Correctly signed tokens with wrong claims: sign with the test pool's own key.
    const { loadSigningKeys } = await import("../../src/kernel/auth/jwt");
    const keys = await loadSigningKeys(env.JWT_SIGNING_KEYS as string);
    const sign = (extra: Record<string, unknown>) =>
      new SignJWT({ ...claims, ...extra })
        .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: keys.currentKid })
        .sign(keys.sign);
    expect((await call("/api/v1/me", { token: await sign({}) })).status).toBe(200);
    expect((await call("/api/v1/me", { token: await sign({ aud: "someone-else" }) })).status).toBe(401);
    expect((await call("/api/v1/me", { token: await sign({ iss: "https://evil.example" }) })).status).toBe(401);
    const past = Math.floor(Date.now() / 1000) - 3600;
    expect((await call("/api/v1/me", { token: await sign({ iat: past - 900, exp: past }) })).status).toBe(401);
    // Signed with the real key but outside what plinth issues: no session, or a life past 15 minutes.
    const { sid: _sid, ...sessionless } = claims;
    const noSession = await new SignJWT(sessionless)
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: keys.currentKid })
      .sign(keys.sign);
    expect((await call("/api/v1/me", { token: noSession })).status).toBe(401);
    const longLived = await sign({ exp: Number(claims.iat) + 365 * 86_400 });
    expect((await call("/api/v1/me", { token: longLived })).status).toBe(401);
    expect(ORIGIN).toBe("http://plinth.test");
  });
});

describe("sessions and keys", () => {
  it("deleting a user fails their refresh at once and their access token in this isolate at once", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    expect((await call(`/api/v1/users/${u.id}`, { method: "DELETE", token: t.adminKey })).status).toBe(204);
    expect(
      (await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } })).status,
    ).toBe(401);
    expect((await call("/api/v1/me", { token: u.access_token })).status).toBe(401);
    expect((await call(`/api/v1/users/${u.id}`, { token: t.adminKey })).status).toBe(404);
  });

  it("a revoked key is refused at once", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "ci", scopes: ["identity.user.read"] },
    });
    const key = created.body.key as string;
    expect((await call("/api/v1/users", { token: key })).status).toBe(200);
    expect(
      (await call(`/api/v1/admin/api-keys/${created.body.id}`, { method: "DELETE", token: t.adminKey })).status,
    ).toBe(204);
    expect((await call("/api/v1/users", { token: key })).status).toBe(401);
  });

  it("a key cannot create a key with scopes it does not hold", async () => {
    const t = await newTenant();
    const writer = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "writer", scopes: ["admin.keys.write", "identity.user.read"] },
    });
    const escalate = await call("/api/v1/admin/api-keys", {
      token: writer.body.key as string,
      body: { name: "escalated", scopes: ["identity.user.delete"] },
    });
    expect(escalate.status).toBe(403);
    expect(escalate.body.detail).toContain("identity.user.delete");
    const allowed = await call("/api/v1/admin/api-keys", {
      token: writer.body.key as string,
      body: { name: "reader", scopes: ["identity.user.read"] },
    });
    expect(allowed.status).toBe(201);
  });

  it("a key cannot create a key that outlives it; without an expiry the new one inherits the creator's", async () => {
    const t = await newTenant();
    const ends = new Date(Date.now() + 3_600_000).toISOString();
    const writer = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "temporary", scopes: ["admin.keys.write", "identity.user.read"], expires_at: ends },
    });
    expect(writer.status).toBe(201);
    const token = writer.body.key as string;
    const later = await call("/api/v1/admin/api-keys", {
      token,
      body: {
        name: "forever-ish",
        scopes: ["identity.user.read"],
        expires_at: new Date(Date.now() + 7_200_000).toISOString(),
      },
    });
    expect(later.status).toBe(403);
    expect(later.body.detail).toContain("cannot outlive");
    const inherited = await call("/api/v1/admin/api-keys", {
      token,
      body: { name: "child", scopes: ["identity.user.read"] },
    });
    expect(inherited.status).toBe(201);
    expect(inherited.body.expires_at).toBe(ends);
    const sooner = new Date(Date.now() + 600_000).toISOString();
    const shorter = await call("/api/v1/admin/api-keys", {
      token,
      body: { name: "shorter", scopes: ["identity.user.read"], expires_at: sooner },
    });
    expect(shorter.status).toBe(201);
    expect(shorter.body.expires_at).toBe(sooner);
    // A user (or a key without expiry) sets any future expiry, or none.
    const open = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "open", scopes: ["identity.user.read"] },
    });
    expect(open.body.expires_at).toBeNull();
  });

  it("a member without permissions is refused admin routes with the permission named", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    const res = await call("/api/v1/users", { token: u.access_token });
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe("missing permission identity.user.read");
  });

  it("an expired key is refused", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "short", scopes: ["identity.user.read"], expires_at: new Date(Date.now() + 60_000).toISOString() },
    });
    await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_: TenantDirectory, state) => {
      state.storage.sql.exec(
        "update api_keys set expires_at = '2000-01-01T00:00:00.000Z' where id = ?",
        created.body.id as string,
      );
    });
    // Fresh isolate cache entries are bounded by the key's expiry, so this one was cached for at most 60 s:
    // the check below goes through a key never used before, so it is not cached.
    expect((await call("/api/v1/users", { token: created.body.key as string })).status).toBe(401);
  });
});

describe("signing key removal", () => {
  it("refuses tokens signed by a removed key, even ones this isolate verified before", async () => {
    const { generateSigningJwk } = await import("../../src/kernel/auth/jwt");
    const { testApp } = await import("../helpers");
    const { modules } = await import("../../src/modules");
    const t = await newTenant();
    const u = await newUser(t.slug);
    const before = testApp(modules);
    const me = (app: typeof before) =>
      app.fetch(`${ORIGIN}/api/v1/me`, { headers: { authorization: `Bearer ${u.access_token}` } });
    expect((await me(before)).status).toBe(200);
    // The same isolate, after the old key was rotated out of JWT_SIGNING_KEYS.
    const rotated = testApp(modules, { JWT_SIGNING_KEYS: JSON.stringify([await generateSigningJwk()]) });
    expect((await me(rotated)).status).toBe(401);
    expect((await me(before)).status).toBe(200);
  });
});
