import { describe, expect, it } from "vitest";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { auditOf, call, login, newTenant, newUser, PASSWORD } from "./helpers";

describe("change password", () => {
  it("changes the password and signs out the other sessions, keeping this one", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    const other = await login(t.slug, u.email);
    const changed = await call("/api/v1/auth/change-password", {
      token: u.access_token,
      body: { current_password: PASSWORD, new_password: "a fresh passphrase here" },
    });
    expect(changed.status).toBe(204);
    expect((await call("/api/v1/me", { token: u.access_token })).status).toBe(200);
    expect((await call("/api/v1/me", { token: other.access_token })).status).toBe(401);
    const refreshOther = await call("/api/v1/auth/refresh", {
      tenant: t.slug,
      body: { refresh_token: other.refresh_token },
    });
    expect(refreshOther.status).toBe(401);
    const old = await call("/api/v1/auth/login", { tenant: t.slug, body: { email: u.email, password: PASSWORD } });
    expect(old.status).toBe(401);
    await login(t.slug, u.email, "a fresh passphrase here");
  });

  it("refuses a wrong current password, a weak new one, and API keys", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    const wrong = await call("/api/v1/auth/change-password", {
      token: u.access_token,
      body: { current_password: "not my password", new_password: "a fresh passphrase here" },
    });
    expect(wrong.status).toBe(403);
    // A wrong guess is audited as a login's is: a stolen access token's guesses leave a trace.
    const failed = await auditOf(t.adminKey, "identity.login.failed");
    expect(failed.map((e) => [e.actor.kind, e.actor.id])).toEqual([["user", u.id]]);
    const weak = await call("/api/v1/auth/change-password", {
      token: u.access_token,
      body: { current_password: PASSWORD, new_password: "short" },
    });
    expect(weak.status).toBe(400);
    const key = await call("/api/v1/auth/change-password", {
      token: t.adminKey,
      body: { current_password: PASSWORD, new_password: "a fresh passphrase here" },
    });
    expect(key.status).toBe(403);
  });
});

describe("tenant from the subdomain of PLATFORM_DOMAIN", () => {
  const domain = "plinth.example";
  const app = () => testApp(modules, { PLATFORM_DOMAIN: domain });

  it("resolves <slug>.<domain> without X-Tenant", async () => {
    const t = await newTenant();
    const res = await app().fetch(`https://${t.slug}.${domain}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "nobody@example.com", password: PASSWORD }),
    });
    // The tenant was found (else 400/404): the login itself fails as it should.
    expect(res.status).toBe(401);
  });

  it("404 for an unknown subdomain, 403 when the subdomain and X-Tenant disagree", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const unknown = await app().fetch(`https://nope-nope.${domain}/api/v1/dev/mailbox`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe("tenant_not_found");
    const mixed = await app().fetch(`https://${a.slug}.${domain}/api/v1/dev/mailbox`, {
      headers: { "x-tenant": b.slug },
    });
    expect(mixed.status).toBe(403);
    expect(((await mixed.json()) as { code: string }).code).toBe("tenant_mismatch");
    const agree = await app().fetch(`https://${a.slug}.${domain}/api/v1/dev/mailbox`, {
      headers: { "x-tenant": a.slug },
    });
    expect(agree.status).toBe(200);
  });

  it("a host spelled with the root's trailing dot or in capitals names the same tenant", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const u = await newUser(a.slug);
    const login = (host: string) =>
      app().fetch(`https://${host}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: u.email, password: PASSWORD }),
      });
    // `acme.example.com.` is the same DNS name as `acme.example.com`: its tenant signs in there too.
    expect((await login(`${a.slug}.${domain}.`)).status).toBe(200);
    expect((await login(`${a.slug.toUpperCase()}.${domain.toUpperCase()}.`)).status).toBe(200);
    // And it is the same tenant's host to a credential of another: not a way past tenant_mismatch.
    const other = await app().fetch(`https://${b.slug}.${domain}./api/v1/me`, {
      headers: { authorization: `Bearer ${a.adminKey}` },
    });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { code: string }).code).toBe("tenant_mismatch");
  });

  it("a credential for one tenant on another tenant's subdomain is tenant_mismatch", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const res = await app().fetch(`https://${b.slug}.${domain}/api/v1/me`, {
      headers: { authorization: `Bearer ${a.adminKey}` },
    });
    expect(res.status).toBe(403);
  });
});

describe("tenant subdomains of localhost in development (no PLATFORM_DOMAIN, no JWT_ISSUER)", () => {
  const app = () => testApp(modules, { ENVIRONMENT: "development" });
  const json = async (res: Response) => (await res.json()) as Record<string, unknown>;

  it("one issuer for every tenant's host, so a token on another tenant's host is tenant_mismatch, not 401", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const u = await newUser(a.slug);
    const signedIn = await app().fetch(`http://${a.slug}.localhost:8787/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: u.email, password: PASSWORD }),
    });
    expect(signedIn.status).toBe(200);
    const token = String((await json(signedIn)).access_token);
    const claims = JSON.parse(atob(String(token.split(".")[1]).replace(/-/g, "+").replace(/_/g, "/")));
    expect(claims.iss).toBe("http://localhost:8787");
    const me = (host: string) =>
      app().fetch(`http://${host}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect((await me(`${a.slug}.localhost:8787`)).status).toBe(200);
    expect((await me("localhost:8787")).status).toBe(200);
    const other = await me(`${b.slug}.localhost:8787`);
    expect(other.status).toBe(403);
    expect((await json(other)).code).toBe("tenant_mismatch");
    const discovery = await json(await app().fetch(`http://${b.slug}.localhost:8787/.well-known/openid-configuration`));
    expect(discovery.issuer).toBe("http://localhost:8787");
  });
});
