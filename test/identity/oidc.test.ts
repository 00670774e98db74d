// plinth as an OpenID Connect issuer of its own access tokens: the discovery
// document agrees with the tokens' `iss` and points at the JWKS that verifies
// them; userinfo answers for users only.
import { createLocalJWKSet, decodeJwt, type JWK, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { identity } from "../../src/modules/identity";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { testApp } from "../helpers";
import { call, newTenant, newUser, ORIGIN } from "./helpers";

describe("/.well-known/openid-configuration", () => {
  it("names the tokens' issuer, the JWKS that verifies them and userinfo", async () => {
    const t = await newTenant("oidc");
    const u = await newUser(t.slug);
    const doc = await call("/.well-known/openid-configuration");
    expect(doc.status).toBe(200);
    expect(doc.body).toMatchObject({
      issuer: ORIGIN,
      jwks_uri: `${ORIGIN}/.well-known/jwks.json`,
      userinfo_endpoint: `${ORIGIN}/api/v1/auth/userinfo`,
      id_token_signing_alg_values_supported: ["EdDSA"],
      subject_types_supported: ["public"],
    });
    expect(decodeJwt(u.access_token).iss).toBe(doc.body.issuer);
    const jwks = await call(new URL(String(doc.body.jwks_uri)).pathname);
    const { payload } = await jwtVerify(u.access_token, createLocalJWKSet({ keys: jwks.body.keys as JWK[] }), {
      issuer: String(doc.body.issuer),
      audience: "plinth",
      algorithms: ["EdDSA"],
    });
    expect(payload.sub).toBe(u.id);
  });

  it("follows JWT_ISSUER when it is configured, as the tokens do", async () => {
    const { fetch } = testApp([system(), tenants(), identity()], { JWT_ISSUER: "https://id.example.com" }, MIGRATIONS);
    const res = await fetch("http://127.0.0.1/.well-known/openid-configuration");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.issuer).toBe("https://id.example.com");
    expect(body.jwks_uri).toBe("https://id.example.com/.well-known/jwks.json");
    expect(body.userinfo_endpoint).toBe("https://id.example.com/api/v1/auth/userinfo");
  });
});

describe("GET /api/v1/auth/userinfo", () => {
  it("answers the access token's user with OIDC standard claims", async () => {
    const t = await newTenant("oidc");
    const u = await newUser(t.slug, "grace@example.com");
    const res = await call("/api/v1/auth/userinfo", { token: u.access_token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: u.id, email: "grace@example.com", email_verified: false, name: "Ada" });
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("refuses an API key (403), no credential (401) and a revoked session (401)", async () => {
    const t = await newTenant("oidc");
    const u = await newUser(t.slug);
    const key = await call("/api/v1/auth/userinfo", { token: t.adminKey });
    expect(key.status).toBe(403);
    expect(key.body.code).toBe("forbidden");
    expect((await call("/api/v1/auth/userinfo")).status).toBe(401);
    const out = await call("/api/v1/auth/logout", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    expect(out.status).toBe(204);
    const revoked = await call("/api/v1/auth/userinfo", { token: u.access_token });
    expect(revoked.status).toBe(401);
    expect(revoked.body.code).toBe("unauthenticated");
  });
});
