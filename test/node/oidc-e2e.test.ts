// plinth as an OpenID Connect issuer, checked by third-party clients: plinth
// served by Miniflare, discovered with `openid-client` (a certified relying-
// party library), its access tokens verified with jose's remote JWKS from the
// discovered `jwks_uri` and `issuer`, and userinfo read with openid-client's
// fetchUserInfo. Nothing here knows plinth beyond its login route.
import path from "node:path";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servedApi } from "./proxy/served-api";
import { type ServedWorker, serveWorker } from "./proxy/worker";

const ROOT = path.resolve(import.meta.dirname, "../..");
const PASSWORD = "correct horse battery staple";

let worker: ServedWorker | undefined;
const api = servedApi(() => worker);

beforeAll(async () => {
  worker = await serveWorker(ROOT);
}, 120_000);
afterAll(async () => {
  await worker?.stop();
});

const origin = () => {
  if (!worker) throw new Error("no worker");
  return worker.origin;
};

/** A tenant with one registered, logged-in user. */
async function signedIn(): Promise<{ userId: string; email: string; access: string; refresh: string; slug: string }> {
  if (!worker) throw new Error("no worker");
  const slug = `oidc-${Date.now().toString(36)}`;
  const tenant = await api("POST", "/api/v1/platform/tenants", { key: worker.rootKey, body: { slug, name: "OIDC" } });
  expect(tenant.status, JSON.stringify(tenant.body)).toBe(201);
  const email = `ada@${slug}.example.com`;
  const headers = { "x-tenant": slug };
  const user = await api("POST", "/api/v1/auth/register", {
    headers,
    body: { email, password: PASSWORD, name: "Ada" },
  });
  expect(user.status, JSON.stringify(user.body)).toBe(201);
  const pair = await api("POST", "/api/v1/auth/login", { headers, body: { email, password: PASSWORD } });
  expect(pair.status, JSON.stringify(pair.body)).toBe(200);
  return {
    userId: String(user.body.id),
    email,
    access: String(pair.body.access_token),
    refresh: String(pair.body.refresh_token),
    slug,
  };
}

/** openid-client's discovery of plinth (plain http on loopback, which the library refuses unless told). */
const discover = () =>
  client.discovery(new URL(origin()), "plinth-e2e", undefined, undefined, {
    execute: [client.allowInsecureRequests],
  });

describe("plinth through openid-client and jose", () => {
  it("discovery succeeds and names plinth's issuer, JWKS and userinfo", async () => {
    const config = await discover();
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(origin());
    expect(meta.jwks_uri).toBe(`${origin()}/.well-known/jwks.json`);
    expect(meta.userinfo_endpoint).toBe(`${origin()}/api/v1/auth/userinfo`);
    expect(meta.id_token_signing_alg_values_supported).toEqual(["EdDSA"]);
  });

  it("an access token verifies against the discovered jwks_uri and issuer", async () => {
    const config = await discover();
    const meta = config.serverMetadata();
    const u = await signedIn();
    const jwks = createRemoteJWKSet(new URL(String(meta.jwks_uri)));
    const { payload, protectedHeader } = await jwtVerify(u.access, jwks, {
      issuer: meta.issuer,
      audience: "plinth",
      algorithms: ["EdDSA"],
    });
    expect(protectedHeader.alg).toBe("EdDSA");
    expect(payload.sub).toBe(u.userId);
    expect(typeof payload.sid).toBe("string");
    // The verifier is not a rubber stamp: another issuer is refused.
    await expect(
      jwtVerify(u.access, jwks, { issuer: "https://elsewhere.example", audience: "plinth" }),
    ).rejects.toThrow();
  });

  it("fetchUserInfo reads the user's standard claims with the access token, and fails once it is revoked", async () => {
    const config = await discover();
    const u = await signedIn();
    const info = await client.fetchUserInfo(config, u.access, u.userId);
    expect(info).toMatchObject({ sub: u.userId, email: u.email, email_verified: false, name: "Ada" });
    // A subject other than the token's is caught by the client.
    await expect(client.fetchUserInfo(config, u.access, "someone-else")).rejects.toThrow();
    // Revoked (logout) in the isolate that serves userinfo: refused at once.
    const out = await api("POST", "/api/v1/auth/logout", {
      headers: { "x-tenant": u.slug },
      body: { refresh_token: u.refresh },
    });
    expect(out.status).toBe(204);
    await expect(client.fetchUserInfo(config, u.access, u.userId)).rejects.toThrow();
  });
});
