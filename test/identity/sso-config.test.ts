import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditOf, call, newTenant, newUser } from "./helpers";

const SECRET = "s3cret-that-must-never-come-back";
const config = (extra: Record<string, unknown> = {}) => ({
  issuer: "https://login.example.com",
  client_id: "plinth",
  client_secret: SECRET,
  allowed_domains: ["example.com"],
  role_mapping: [{ claim: "groups", value: "readers", role: "viewer" }],
  default_role: "member",
  ...extra,
});
const put = (token: string, body: unknown, headers: Record<string, string> = {}) =>
  call("/api/v1/admin/sso", { method: "PUT", token, body, headers });

describe("SSO provider configuration (/api/v1/admin/sso)", () => {
  it("stores the provider with its secret sealed, and never returns the secret", async () => {
    const t = await newTenant("sso");
    const res = await put(t.adminKey, config());
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get("etag")).toBe('"1"');
    expect(res.body).toMatchObject({ issuer: "https://login.example.com", client_secret_set: true, jit: false });
    expect(JSON.stringify(res.body)).not.toContain(SECRET);
    const got = await call("/api/v1/admin/sso", { token: t.adminKey });
    expect(got.status).toBe(200);
    expect(JSON.stringify(got.body)).not.toContain(SECRET);

    const sealed = await runInDurableObject(env.TENANT_DIRECTORY.getByName(t.id), (_o, state) =>
      state.storage.sql.exec<{ sealed_secret: string }>("select sealed_secret from sso_provider").one(),
    );
    expect(sealed.sealed_secret).toMatch(/^v1\./);
    expect(sealed.sealed_secret).not.toContain(SECRET);

    // Without client_secret the stored one is kept; If-Match guards the version.
    const again = await put(t.adminKey, { ...config({ jit: true }), client_secret: undefined }, { "if-match": '"1"' });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.version).toBe(2);
    const stale = await put(t.adminKey, config(), { "if-match": '"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body.current_version).toBe(2);
  });

  it("validates every field: the issuer by the outbound rules, domains, roles, the first secret", async () => {
    const t = await newTenant("sso");
    const bad = await put(t.adminKey, {
      issuer: "http://login.example.com",
      client_id: "",
      allowed_domains: [],
      default_role: "Not A Role",
    });
    expect(bad.status).toBe(400);
    const paths = (bad.body.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["body.client_id", "body.allowed_domains", "body.default_role"]));

    for (const issuer of [
      "http://login.example.com",
      "https://10.0.0.7",
      "https://169.254.169.254",
      "https://user:pw@example.com",
    ]) {
      const res = await put(t.adminKey, config({ issuer }));
      expect(res.status, issuer).toBe(400);
      expect((res.body.errors as { path: string }[])[0]?.path).toBe("body.issuer");
    }
    const noSecret = await put(t.adminKey, { ...config(), client_secret: undefined });
    expect(noSecret.status).toBe(400);
    expect((noSecret.body.errors as { path: string }[])[0]?.path).toBe("body.client_secret");
    const noRole = await put(t.adminKey, config({ default_role: "ghost" }));
    expect(noRole.status).toBe(400);
    expect(noRole.body.detail).toContain("role");
    // Loopback over http is allowed in test and development, as safeFetch allows it.
    expect((await put(t.adminKey, config({ issuer: "http://127.0.0.1:9999" }))).status).toBe(200);
  });

  it("needs admin.sso.write, and an admin cannot map sign-ins to owner", async () => {
    const t = await newTenant("sso");
    const member = await newUser(t.slug);
    expect((await put(member.access_token, config())).status).toBe(403);
    expect((await call("/api/v1/admin/sso", { token: member.access_token })).status).toBe(403);

    const admin = await newUser(t.slug);
    const granted = await call(`/api/v1/admin/users/${admin.id}/roles/admin`, { method: "PUT", token: t.adminKey });
    expect(granted.status).toBe(204);
    const owner = await put(
      admin.access_token,
      config({ role_mapping: [{ claim: "groups", value: "x", role: "owner" }] }),
    );
    expect(owner.status).toBe(403);
    expect(owner.body.code).toBe("forbidden");
    expect((await put(t.adminKey, config())).status).toBe(200);
    const mapped = await put(admin.access_token, {
      ...config({ role_mapping: [{ claim: "groups", value: "x", role: "owner" }] }),
      client_secret: undefined,
    });
    expect(mapped.status).toBe(403);
    expect((await put(admin.access_token, { ...config({ jit: true }), client_secret: undefined })).status).toBe(200);
  });

  it("only an owner changes who may vouch for whom: issuer, client, allowed domains, app redirects", async () => {
    const t = await newTenant("sso");
    const admin = await newUser(t.slug);
    const granted = await call(`/api/v1/admin/users/${admin.id}/roles/admin`, { method: "PUT", token: t.adminKey });
    expect(granted.status).toBe(204);
    // No provider yet: setting one chooses the issuer.
    const first = await put(admin.access_token, config());
    expect(first.status, JSON.stringify(first.body)).toBe(403);
    expect(first.body.code).toBe("forbidden");
    expect(first.body.detail).toContain("SSO provider");
    expect((await put(t.adminKey, config())).status).toBe(200);
    const changes: Record<string, unknown>[] = [
      { issuer: "https://idp.attacker.example" },
      { client_id: "attacker-client" },
      { allowed_domains: ["example.com", "owner.example"] },
      { app_redirect_uris: ["https://collector.example/signed-in"] },
    ];
    for (const change of changes) {
      const res = await put(admin.access_token, { ...config(change), client_secret: undefined });
      expect(res.status, JSON.stringify(change)).toBe(403);
      expect(res.body.code).toBe("forbidden");
    }
    const stored = await call("/api/v1/admin/sso", { token: admin.access_token });
    expect(stored.body).toMatchObject({ issuer: "https://login.example.com", client_id: "plinth", version: 1 });
    // The rest stays the admin's: roles they could grant, just-in-time provisioning, a new secret for the same client.
    const rest = await put(admin.access_token, config({ jit: true, default_role: "viewer" }));
    expect(rest.status, JSON.stringify(rest.body)).toBe(200);
    expect(rest.body.version).toBe(2);

    // Each change names who made it and which fields: how an owner finds the providers a non-owner
    // configured before this rule (docs/identity.md "Providers configured before the owner-only rule").
    const entries = await auditOf(t.adminKey, "identity.sso.configured", 2);
    expect(entries.map((e) => [e.actor.kind, e.actor.kind === "user" ? e.actor.id : "key", e.detail])).toEqual([
      ["user", admin.id, { fields: ["default_role", "jit", "client_secret"] }],
      [
        "api_key",
        "key",
        {
          fields: [
            "issuer",
            "client_id",
            "token_endpoint_auth_method",
            "allowed_domains",
            "role_mapping",
            "default_role",
            "jit",
            "app_redirect_uris",
            "client_secret",
          ],
        },
      ],
    ]);
    expect(entries[1]?.actor.id).toBeTruthy();
    expect(JSON.stringify(entries)).not.toContain(SECRET);
  });

  it("DELETE removes it; then start and GET answer 404 sso_not_configured", async () => {
    const t = await newTenant("sso");
    expect((await put(t.adminKey, config())).status).toBe(200);
    expect((await call("/api/v1/admin/sso", { method: "DELETE", token: t.adminKey })).status).toBe(204);
    const got = await call("/api/v1/admin/sso", { token: t.adminKey });
    expect(got.status).toBe(404);
    expect(got.body.code).toBe("sso_not_configured");
    const start = await call("/api/v1/auth/sso/start", { tenant: t.slug });
    expect(start.status).toBe(404);
    expect(start.body.code).toBe("sso_not_configured");
    const callback = await call("/api/v1/auth/sso/callback?state=nothing&code=x", { tenant: t.slug });
    expect(callback.status).toBe(400);
    expect(callback.body.code).toBe("sso_state_invalid");
  });
});
