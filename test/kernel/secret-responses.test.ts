// Every response that carries a secret (a key, a token pair, a TOTP seed, recovery codes, a
// webhook secret, a signed URL, mailed tokens) says Cache-Control: no-store, so no browser,
// proxy or CDN keeps a copy, and the idempotency store does not keep or replay its body
// (it skips a no-store response). One table: a route that hands out a secret belongs here.

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { policiesOff } from "../../src/kernel/ratelimit/policies";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { callerOf, mailTo, PASSWORD, tokenIn } from "../identity/helpers";
import { codeAt } from "../identity/two-factor-helpers";

type Answer = { status: number; body: Record<string, unknown>; headers: Headers };

const clock = manualClock("2031-03-01T00:00:10.000Z");
const { fetch } = testApp(modules, { RATE_LIMITS: JSON.stringify(policiesOff()) }, MIGRATIONS, clock);
const call = callerOf(fetch);
const root = () => env.PLATFORM_ROOT_KEY as string;

let tenant: { id: string; slug: string; adminKey: string };
let n = 0;

/** A registered user of the tenant and a login of theirs. */
async function user(): Promise<{ email: string; access: string; refresh: string }> {
  const email = `secret-${++n}@example.com`;
  const reg = await call("/api/v1/auth/register", {
    tenant: tenant.slug,
    body: { email, password: PASSWORD, name: "Ada" },
  });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  const res = await login(email);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { email, access: String(res.body.access_token), refresh: String(res.body.refresh_token) };
}

const login = (email: string) =>
  call("/api/v1/auth/login", { tenant: tenant.slug, body: { email, password: PASSWORD } });

/** A user with two-factor on; their secret. */
async function twoFactorUser(): Promise<{ email: string; secret: string }> {
  const u = await user();
  const started = await call("/api/v1/me/two-factor", { token: u.access, method: "POST" });
  const secret = String(started.body.secret);
  const confirmed = await call("/api/v1/me/two-factor/confirm", {
    token: u.access,
    body: { code: codeAt(secret, clock) },
  });
  expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
  return { email: u.email, secret };
}

async function webhook(): Promise<string> {
  const res = await call("/api/v1/admin/webhooks", {
    token: tenant.adminKey,
    body: { url: "https://hooks.example.com/in", events: ["blog.post.*"] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return String(res.body.id);
}

/** What each route hands out, the status it answers, and how to get that answer. */
const SECRET_RESPONSES: [string, number, () => Promise<Answer>][] = [
  [
    "POST /platform/tenants (the admin key)",
    201,
    () =>
      call("/api/v1/platform/tenants", {
        token: root(),
        body: { slug: `ns-${crypto.randomUUID().slice(0, 8)}`, name: "N" },
      }),
  ],
  [
    "POST /platform/tenants/{id}/admin-keys (a key)",
    201,
    () => call(`/api/v1/platform/tenants/${tenant.id}/admin-keys`, { token: root(), body: { name: "recovered" } }),
  ],
  [
    "POST /admin/api-keys (a key)",
    201,
    () => call("/api/v1/admin/api-keys", { token: tenant.adminKey, body: { name: "k", scopes: ["blog.post.read"] } }),
  ],
  ["POST /auth/login (a token pair)", 200, async () => login((await user()).email)],
  [
    "POST /auth/refresh (a token pair)",
    200,
    async () => call("/api/v1/auth/refresh", { tenant: tenant.slug, body: { refresh_token: (await user()).refresh } }),
  ],
  [
    "POST /auth/accept-invitation (a token pair)",
    200,
    async () => {
      const email = `invited-${++n}@example.com`;
      const made = await call("/api/v1/admin/invitations", {
        token: tenant.adminKey,
        body: { email, roles: ["viewer"] },
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      const token = tokenIn(await mailTo(tenant.slug, email, "You are invited"));
      return call("/api/v1/auth/accept-invitation", {
        tenant: tenant.slug,
        body: { token, password: PASSWORD, name: "Invitee" },
      });
    },
  ],
  [
    "POST /me/two-factor (the TOTP secret)",
    201,
    async () => call("/api/v1/me/two-factor", { token: (await user()).access, method: "POST" }),
  ],
  [
    "POST /me/two-factor/confirm (recovery codes)",
    200,
    async () => {
      const u = await user();
      const started = await call("/api/v1/me/two-factor", { token: u.access, method: "POST" });
      const code = codeAt(String(started.body.secret), clock);
      return call("/api/v1/me/two-factor/confirm", { token: u.access, body: { code } });
    },
  ],
  ["POST /auth/login with two-factor on (a challenge)", 200, async () => login((await twoFactorUser()).email)],
  [
    "POST /auth/two-factor (a token pair)",
    200,
    async () => {
      const u = await twoFactorUser();
      const challenge = String((await login(u.email)).body.challenge);
      clock.advance(30_000); // the confirm spent this step's code
      return call("/api/v1/auth/two-factor", {
        tenant: tenant.slug,
        body: { challenge, code: codeAt(u.secret, clock) },
      });
    },
  ],
  [
    "POST /admin/webhooks (the signing secret)",
    201,
    () =>
      call("/api/v1/admin/webhooks", {
        token: tenant.adminKey,
        body: { url: "https://hooks.example.com/in", events: ["blog.post.*"] },
      }),
  ],
  [
    "POST /admin/webhooks/{id}/rotate-secret (the signing secret)",
    200,
    async () =>
      call(`/api/v1/admin/webhooks/${await webhook()}/rotate-secret`, { token: tenant.adminKey, method: "POST" }),
  ],
  [
    "POST /files/{id}/url (a signed download URL)",
    200,
    async () => {
      const res = await fetch("/api/v1/files?name=a.txt", {
        method: "POST",
        headers: { authorization: `Bearer ${tenant.adminKey}`, "content-type": "text/plain", "content-length": "12" },
        body: "secret bytes",
      });
      const file = (await res.json()) as { id: string };
      expect(res.status, JSON.stringify(file)).toBe(201);
      return call(`/api/v1/files/${file.id}/url`, { token: tenant.adminKey, body: {} });
    },
  ],
  [
    "GET /dev/mailbox (mailed tokens: verification, reset, invitation)",
    200,
    async () => {
      const { email } = await user(); // its verification mail, with its token
      await mailTo(tenant.slug, email);
      return call(`/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`, { tenant: tenant.slug });
    },
  ],
];

beforeAll(async () => {
  const slug = `no-store-${crypto.randomUUID().slice(0, 8)}`;
  const res = await call("/api/v1/platform/tenants", { token: root(), body: { slug, name: slug } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  tenant = { id: String(res.body.id), slug, adminKey: String(res.body.admin_key) };
});

describe("responses that carry a secret", () => {
  it.each(SECRET_RESPONSES)("%s: Cache-Control: no-store", async (_, status, answer) => {
    const res = await answer();
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.headers.get("cache-control") ?? "").toMatch(/(^|,\s*)no-store(\s*,|$)/);
  });
});
