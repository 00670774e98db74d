// Tenant settings (validated, versioned with If-Match, audited) and the
// per-tenant CORS they drive.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { modules } from "../../src/modules";
import { notesModule } from "../fixtures";
import { testApp } from "../helpers";
import { auditOf, call as suiteCall } from "../identity/helpers";
import { gateway } from "./helpers";

describe("tenant settings", () => {
  it("reads defaults at version 1, changes with If-Match, refuses a stale version, and is audited", async () => {
    const { call, tenant } = gateway();
    const t = await tenant();
    const first = await call("/api/v1/admin/settings", { token: t.adminKey });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      require_verified_email: false,
      signup: { mode: "open", domains: [] },
      require_two_factor_for_admins: false,
      cors_origins: [],
      rate_limits: {},
      mail_links: { verify_email: null, password_reset: null, invitation: null },
      version: 1,
    });
    expect(first.headers.get("etag")).toBe('"1"');
    const patch = (body: unknown, ifMatch?: string) =>
      call("/api/v1/admin/settings", {
        method: "PATCH",
        token: t.adminKey,
        body,
        headers: ifMatch ? { "if-match": ifMatch } : {},
      });
    const changed = await patch({ cors_origins: ["https://app.example.com"] }, '"1"');
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ cors_origins: ["https://app.example.com"], version: 2 });
    const stale = await patch({ require_verified_email: true }, '"1"');
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe("version_conflict");
    // The 412 says which version is current, so a client knows what it lost to.
    expect(stale.body.current_version).toBe(2);
    const entries = await auditOf(t.adminKey, "identity.settings.updated", 1);
    expect(entries[0]?.detail).toEqual({ fields: ["cors_origins"] });
  });

  it("names every invalid field, and needs admin.settings.*", async () => {
    const { call, tenant } = gateway();
    const t = await tenant();
    const bad = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: {
        cors_origins: ["https://ok.example.com", "https://x.example.com/path", "*"],
        require_verified_email: "yes",
      },
    });
    expect(bad.status).toBe(400);
    expect((bad.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
      "body.cors_origins.1",
      "body.cors_origins.2",
      "body.require_verified_email",
    ]);
    const unknown = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { rate_limits: { anonymous: { limit: 1, period_s: 60 }, nope: { limit: 1, period_s: 60 } } },
    });
    expect(unknown.status).toBe(400);
    expect((unknown.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
      "body.rate_limits.anonymous",
      "body.rate_limits.nope",
    ]);
    // Problems zod finds and the platform's policy checks, in one answer.
    const mixed = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: {
        cors_origins: ["nope"],
        signup: { mode: "domains" },
        rate_limits: { anonymous: { limit: 10, period_s: 60 }, principal: { limit: 10_000_000, period_s: 1 } },
      },
    });
    expect(mixed.status).toBe(400);
    expect((mixed.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
      "body.cors_origins.0",
      "body.rate_limits.anonymous",
      "body.rate_limits.principal.limit",
      "body.signup.domains",
    ]);
    const key = await call("/api/v1/admin/api-keys", {
      token: t.adminKey,
      body: { name: "r", scopes: ["blog.post.read"] },
    });
    const refused = await call("/api/v1/admin/settings", { token: String(key.body.key) });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe("missing permission admin.settings.read");
  });
});

describe("CORS per tenant", () => {
  const allowed = "https://app.example.com";

  async function setUp() {
    const gw = gateway({}, { PLATFORM_DOMAIN: "plinth.test" });
    const t = await gw.tenant("cors");
    const set = await gw.call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { cors_origins: [allowed] },
    });
    expect(set.status).toBe(200);
    return { ...gw, t, host: `http://${t.slug}.plinth.test` };
  }

  const preflight = (origin: string) => ({
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
  });

  it("answers a preflight from an allowed origin with what may be sent", async () => {
    const { call, host } = await setUp();
    const res = await call(`${host}/api/v1/me`, preflight(allowed));
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(res.headers.get("access-control-allow-methods")).toContain("PATCH");
    expect(res.headers.get("access-control-allow-headers")).toBe(
      "Authorization, Content-Type, If-Match, Idempotency-Key, X-Tenant, X-Request-Id, Content-Digest, Repr-Digest, Want-Content-Digest, Want-Repr-Digest, If-None-Match, If-Range, Range, If-Modified-Since, If-Unmodified-Since, Cache-Control, Pragma, traceparent, tracestate",
    );
    expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("gives any other origin no CORS headers, on preflights and on responses", async () => {
    const { call, host, t } = await setUp();
    const res = await call(`${host}/api/v1/me`, preflight("https://evil.example.com"));
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    // Sent anyway (a preflight the browser still holds): refused, and unreadable (cors-origin-gate.test.ts).
    const actual = await call(`${host}/api/v1/me`, {
      token: t.adminKey,
      headers: { origin: "https://evil.example.com" },
    });
    expect(actual.status).toBe(403);
    expect(actual.headers.get("access-control-allow-origin")).toBeNull();
    // Another tenant's host does not inherit this tenant's origins.
    const other = await suiteCall("/api/v1/system/info");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("lets the allowed origin read responses, errors included, and the headers that matter", async () => {
    const { call, host, t } = await setUp();
    const ok = await call(`${host}/api/v1/me`, { token: t.adminKey, headers: { origin: allowed } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(allowed);
    const exposed = (ok.headers.get("access-control-expose-headers") ?? "").split(", ");
    expect(exposed).toEqual(
      expect.arrayContaining(["ETag", "X-Request-Id", "RateLimit", "RateLimit-Policy", "Retry-After"]),
    );
    // A 201's Location (an upload, a new resource): without it a browser app reads null.
    expect(exposed).toContain("Location");
    // A download's RFC 9530 digests: without them exposed, a page cannot check what it fetched.
    expect(exposed).toEqual(expect.arrayContaining(["Repr-Digest", "Content-Digest"]));
    // A rotation's notice that the credential sent is the one being retired (docs/operations.md).
    expect(exposed).toContain("Plinth-Deprecated-Credential");
    const denied = await call(`${host}/api/v1/users`, { headers: { origin: allowed } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("access-control-allow-origin")).toBe(allowed);
  });

  it("exposes the header each error names its remedy in: WWW-Authenticate, Allow, Accept-Post, Accept-Patch", async () => {
    const { call, host, t } = await setUp();
    const asPage = { origin: allowed };
    // What a page gets back for a missing credential, a method the path lacks, and a body of the wrong type.
    const answers = {
      "WWW-Authenticate": await call(`${host}/api/v1/me`, { headers: asPage }),
      Allow: await call(`${host}/api/v1/me`, { method: "PUT", token: t.adminKey, headers: asPage }),
      "Accept-Post": await call(`${host}/api/v1/blog/posts`, {
        method: "POST",
        token: t.adminKey,
        headers: { ...asPage, "content-type": "text/plain" },
      }),
      "Accept-Patch": await call(`${host}/api/v1/blog/posts/any`, {
        method: "PATCH",
        token: t.adminKey,
        headers: { ...asPage, "content-type": "text/plain" },
      }),
    };
    for (const [header, res] of Object.entries(answers)) {
      // The answer carries it (else this test would check nothing) ...
      expect(res.headers.get(header), `${header} on ${res.status}`).not.toBeNull();
      // ... and names it to the browser, which otherwise hands the page null for it.
      const exposed = (res.headers.get("access-control-expose-headers") ?? "").split(", ");
      expect(exposed, `${header} on ${res.status}`).toContain(header);
    }
  });

  it("lets the allowed origin read a 500's problem+json, which names no more than its request id", async () => {
    // The platform with a module whose route throws (test/fixtures.ts), on tenant hosts.
    const app = testApp([...modules, notesModule()], { PLATFORM_DOMAIN: "plinth.test" });
    const json = { "content-type": "application/json" };
    const slug = `boom-${crypto.randomUUID().slice(0, 8)}`;
    const created = await app.fetch("http://plinth.test/api/v1/platform/tenants", {
      method: "POST",
      headers: { ...json, authorization: `Bearer ${String(env.PLATFORM_ROOT_KEY)}` },
      body: JSON.stringify({ slug, name: slug }),
    });
    const { admin_key } = (await created.json()) as { admin_key: string };
    const set = await app.fetch(`http://${slug}.plinth.test/api/v1/admin/settings`, {
      method: "PATCH",
      headers: { ...json, authorization: `Bearer ${admin_key}` },
      body: JSON.stringify({ cors_origins: [allowed] }),
    });
    expect(set.status).toBe(200);
    const res = await app.fetch(`http://${slug}.plinth.test/api/v1/notes/boom`, { headers: { origin: allowed } });
    expect(res.status).toBe(500);
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(res.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: "internal", request_id: res.headers.get("x-request-id") });
    expect(JSON.stringify(body)).not.toContain("secret");
  });
});
