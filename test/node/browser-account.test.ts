// An end user's account, driven from a tenant's single-page app in a real browser: a page on
// an origin the tenant allows does everything with fetch alone (sign up, verify the email from
// the dev mailbox, log in, read /me, write a post with Idempotency-Key and If-Match, refresh
// and have a reused refresh token refused, two-factor, change the password, log out, delete
// the account), and reads every answer, errors (problem+json) and the headers they name their
// remedy in included; and it cannot act on another tenant. The authenticator app is the test,
// handed to the page as a function.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import * as OTPAuth from "otpauth";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rateLimits } from "../../bench/lib/plinth-config.mjs";
import { allowOrigins, launchChromium, page, resultFrom, servedTenant } from "./browser-page";
import { type ServedWorker, serveWorker } from "./proxy/worker";

const ROOT = path.resolve(import.meta.dirname, "../..");
const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "another horse, another staple";

/**
 * In the page: `call(method, path, { token, body, headers, raw, api })` answers `{ status, headers, body }`
 * (`api` a host other than the page's `API`),
 * `headers` being only what the browser lets the page read (CORS-safelisted or exposed).
 */
const CALL = `const call = async (method, path, o = {}) => {
  const headers = { ...(o.headers || {}) };
  if (o.token) headers.Authorization = "Bearer " + o.token;
  if (o.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch((o.api ?? API) + path, { method, headers, body: o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body)) });
  const read = {}; res.headers.forEach((v, k) => { read[k] = v; });
  const text = await res.text();
  return { status: res.status, headers: read, body: text ? JSON.parse(text) : null };
};`;

/** The whole life of one account, each step's answer kept under its name. */
const accountPage = (api: string, email: string) =>
  page(`async () => {
    const API = ${JSON.stringify(api)};
    const email = ${JSON.stringify(email)};
    const password = ${JSON.stringify(PASSWORD)}, newPassword = ${JSON.stringify(NEW_PASSWORD)};
    ${CALL}
    const seen = {};
    seen.register = await call("POST", "/api/v1/auth/register", { body: { email, password, name: "Ada" } });
    // The verification mail, from the dev mailbox (docs/notifications.md), once the queue delivered it.
    let token;
    for (let i = 0; i < 50 && !token; i++) {
      const mail = await call("GET", "/api/v1/dev/mailbox?to=" + encodeURIComponent(email));
      token = mail.body.items?.[0]?.body.match(/plv_[A-Za-z0-9_-]+/)?.[0];
      if (!token) await new Promise((r) => setTimeout(r, 200));
    }
    seen.verify = await call("POST", "/api/v1/auth/verify-email", { body: { token } });
    seen.login = await call("POST", "/api/v1/auth/login", { body: { email, password } });
    let access = seen.login.body.access_token;
    seen.me = await call("GET", "/api/v1/me", { token: access });

    const post = { title: "From the page", content: "first" };
    const key = { "Idempotency-Key": "page-" + email };
    seen.create = await call("POST", "/api/v1/blog/posts", { token: access, body: post, headers: key });
    seen.replay = await call("POST", "/api/v1/blog/posts", { token: access, body: post, headers: key });
    const at = seen.create.headers.location;
    seen.update = await call("PATCH", at, { token: access, body: { title: "Edited" }, headers: { "If-Match": seen.create.headers.etag } });
    seen.stale = await call("PATCH", at, { token: access, body: { title: "Lost" }, headers: { "If-Match": seen.create.headers.etag } });

    // Refresh twice; the first token, whose successor is spent too, is then a reuse.
    const first = seen.login.body.refresh_token;
    seen.refresh = await call("POST", "/api/v1/auth/refresh", { body: { refresh_token: first } });
    const second = await call("POST", "/api/v1/auth/refresh", { body: { refresh_token: seen.refresh.body.refresh_token } });
    seen.reused = await call("POST", "/api/v1/auth/refresh", { body: { refresh_token: first } });
    seen.familyAfterReuse = await call("POST", "/api/v1/auth/refresh", { body: { refresh_token: second.body.refresh_token } });

    const relogin = async (pw, recovery) => {
      const step = await call("POST", "/api/v1/auth/login", { body: { email, password: pw } });
      if (!step.body.two_factor_required) return step;
      return call("POST", "/api/v1/auth/two-factor", { body: { challenge: step.body.challenge, recovery_code: recovery } });
    };
    const other = (await relogin(password)).body;
    access = other.access_token;
    seen.enrol = await call("POST", "/api/v1/me/two-factor", { token: access });
    seen.confirm = await call("POST", "/api/v1/me/two-factor/confirm", { token: access, body: { code: await authenticator(seen.enrol.body.secret) } });
    const codes = seen.confirm.body.recovery_codes;
    seen.challenge = await call("POST", "/api/v1/auth/login", { body: { email, password } });
    seen.wrongCode = await call("POST", "/api/v1/auth/two-factor", { body: { challenge: seen.challenge.body.challenge, code: "000000" } });
    seen.secondFactor = await call("POST", "/api/v1/auth/two-factor", { body: { challenge: seen.challenge.body.challenge, recovery_code: codes[0] } });
    access = seen.secondFactor.body.access_token;
    seen.changePassword = await call("POST", "/api/v1/auth/change-password", { token: access, body: { current_password: password, new_password: newPassword } });
    seen.oldPassword = await call("POST", "/api/v1/auth/login", { body: { email, password } });
    // The change signs out the user's other sessions (the one that enrolled), not this one.
    seen.otherSession = await call("POST", "/api/v1/auth/refresh", { body: { refresh_token: other.refresh_token } });
    seen.thisSession = await call("POST", "/api/v1/auth/refresh", { body: { refresh_token: seen.secondFactor.body.refresh_token } });
    const session = await relogin(newPassword, codes[1]);
    seen.logout = await call("POST", "/api/v1/auth/logout", { token: session.body.access_token, body: { refresh_token: session.body.refresh_token } });
    seen.refreshAfterLogout = await call("POST", "/api/v1/auth/refresh", { body: { refresh_token: session.body.refresh_token } });
    access = (await relogin(newPassword, codes[2])).body.access_token;
    seen.deleteWithoutCode = await call("DELETE", "/api/v1/me", { token: access, body: { password: newPassword } });
    seen.delete = await call("DELETE", "/api/v1/me", { token: access, body: { password: newPassword, recovery_code: codes[3] } });
    seen.meAfterDelete = await call("GET", "/api/v1/me", { token: access });
    return seen;
  }`);

/** Errors a page meets, each with the header that says what to do instead. */
const errorsPage = (api: string, key: string, email: string) =>
  page(`async () => {
    const API = ${JSON.stringify(api)};
    ${CALL}
    const key = ${JSON.stringify(key)};
    const seen = {};
    seen.noCredential = await call("GET", "/api/v1/me");
    seen.wrongMethod = await call("PUT", "/api/v1/me", { token: key, body: {} });
    seen.wrongType = await call("POST", "/api/v1/blog/posts", { token: key, raw: "<post/>", headers: { "Content-Type": "application/xml" } });
    seen.invalid = await call("POST", "/api/v1/blog/posts", { token: key, body: { title: "", content: 5 } });
    // Wrong passwords for one account until the login limit refuses (a burst of 5 in this Worker).
    for (let i = 0; i < 8 && seen.limited?.status !== 429; i++)
      seen.limited = await call("POST", "/api/v1/auth/login", { body: { email: ${JSON.stringify(email)}, password: "not the password " + i } });
    return seen;
  }`);

/** From tenant A's allowed origin: tenant B's host, and A's host with B's key. */
const isolationPage = (apiA: string, apiB: string, keyB: string) =>
  page(`async () => {
    const API = ${JSON.stringify(apiA)};
    ${CALL}
    const asB = (api) => call("GET", "/api/v1/me", { api, token: ${JSON.stringify(keyB)} }).catch((e) => ({ error: String(e) }));
    return { bHost: await asB(${JSON.stringify(apiB)}), aHost: await asB(API) };
  }`);

let worker: ServedWorker | undefined;
let pages: Server | undefined;
let browser: Browser | undefined;
let slug = "";
let adminKey = "";
let slugB = "";
let keyB = "";

beforeAll(async () => {
  // Login as every deployment has it (a burst of 5 wrong passwords), so a page meets its 429.
  const RATE_LIMITS = rateLimits({ login: { limit: 10, period_s: 900, burst: 5, max_limit: 100 } });
  worker = await serveWorker(ROOT, {
    vars: {
      RATE_LIMITS,
      ENCRYPTION_KEYS: JSON.stringify([{ version: 1, key: Buffer.alloc(32, 7).toString("base64url") }]),
    },
  });
  slug = `acct-${Date.now().toString(36)}`;
  adminKey = await servedTenant(worker, slug, "Accounts");

  // Tenant B, which allows only an origin of its own.
  slugB = `${slug}-b`;
  keyB = await servedTenant(worker, slugB, "Other");
  await allowOrigins(worker, keyB, ["http://b-app.localhost:1"]);

  pages = createServer((req, res) => {
    const at = new URL(req.url ?? "/", "http://pages");
    const email = at.searchParams.get("email") ?? "";
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    const html =
      at.pathname === "/errors"
        ? errorsPage(api(), adminKey, email)
        : at.pathname === "/isolation"
          ? isolationPage(api(), api(slugB), keyB)
          : accountPage(api(), email);
    res.end(html);
  });
  await new Promise<void>((resolve) => pages?.listen(0, "127.0.0.1", resolve));
  await allowOrigins(worker, adminKey, [pagesAt("/")]);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (pages ? pages.close(() => resolve()) : resolve()));
  await worker?.stop();
}, 30_000);

/** A tenant's own host on the served Worker (development: `<slug>.localhost`); the first tenant's by default. */
const api = (of = slug) => `http://${of}.localhost:${new URL(worker?.origin ?? "http://x:0").port}`;
/** The app's origin, which the tenant allows (`http://app.localhost:<port>`), with `at` after it. */
const pagesAt = (at: string) => {
  if (!pages) throw new Error("the page server is not running");
  const origin = `http://app.localhost:${(pages.address() as AddressInfo).port}`;
  return at === "/" ? origin : `${origin}${at}`;
};

/** The authenticator app: the current code for a secret, as the user's phone would show it. */
const authenticator = (secret: string) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate();

type Seen = Record<string, { status: number; headers: Record<string, string>; body: Record<string, unknown> | null }>;

describe("an end user's account, from a page on an origin the tenant allows", () => {
  it("signs up, verifies, logs in, writes a post, refreshes, uses two-factor, changes the password, leaves", async () => {
    const email = `ada-${Date.now()}@example.com`;
    const seen = (await resultFrom(
      browser as Browser,
      pagesAt(`/account?email=${encodeURIComponent(email)}`),
      (tab) => tab.exposeFunction("authenticator", authenticator),
      60_000,
    )) as Seen;
    expect(seen.error, String(seen.error)).toBeUndefined();
    expect(seen.register).toMatchObject({
      status: 201,
      headers: { location: expect.stringMatching(/^\/api\/v1\/users\//) },
    });
    expect(seen.verify?.status).toBe(204);
    expect(seen.me).toMatchObject({ status: 200, body: { kind: "user", user: { email, email_verified: true } } });
    // What a page needs from a write: where it is, its version, the request id, the limits.
    expect(seen.create).toMatchObject({ status: 201, headers: { etag: '"1"' } });
    expect(seen.create?.headers.location).toBe(`/api/v1/blog/posts/${seen.create?.body?.id}`);
    expect(Object.keys(seen.create?.headers ?? {})).toEqual(
      expect.arrayContaining(["x-request-id", "ratelimit", "ratelimit-policy"]),
    );
    expect(seen.replay).toMatchObject({ status: 201, headers: { "idempotent-replayed": "true" } });
    expect(seen.replay?.body?.id).toBe(seen.create?.body?.id);
    expect(seen.update).toMatchObject({ status: 200, headers: { etag: '"2"' }, body: { title: "Edited" } });
    expect(seen.stale).toMatchObject({ status: 412, body: { code: "version_conflict", current_version: 2 } });
    expect(seen.stale?.headers["content-type"]).toBe("application/problem+json");

    expect(seen.refresh?.status).toBe(200);
    expect(seen.reused).toMatchObject({ status: 401, body: { code: "unauthenticated" } });
    expect(seen.familyAfterReuse?.status).toBe(401);

    expect(seen.enrol).toMatchObject({ status: 201, headers: { location: "/api/v1/me/two-factor" } });
    expect(seen.confirm).toMatchObject({ status: 200, body: { enabled: true } });
    expect(seen.challenge).toMatchObject({ status: 200, body: { two_factor_required: true } });
    expect(seen.wrongCode).toMatchObject({ status: 401, body: { code: "unauthenticated" } });
    expect(seen.secondFactor).toMatchObject({ status: 200, body: { token_type: "Bearer" } });
    expect(seen.changePassword?.status).toBe(204);
    expect(seen.oldPassword?.status).toBe(401);
    expect(seen.otherSession?.status).toBe(401);
    expect(seen.thisSession?.status).toBe(200);
    expect(seen.logout?.status).toBe(204);
    expect(seen.refreshAfterLogout?.status).toBe(401);
    expect(seen.deleteWithoutCode).toMatchObject({ status: 403, body: { code: "wrong_two_factor_code" } });
    expect(seen.delete?.status).toBe(204);
    expect(seen.meAfterDelete?.status).toBe(401);
  }, 90_000);

  it("reads every error's problem+json and the header that names its remedy", async () => {
    const email = `bob-${Date.now()}@example.com`;
    const seen = (await resultFrom(browser as Browser, pagesAt(`/errors?email=${encodeURIComponent(email)}`))) as Seen;
    expect(seen.error, String(seen.error)).toBeUndefined();
    const problem = (status: number, code: string) => ({
      status,
      headers: { "content-type": "application/problem+json", "x-request-id": expect.any(String) },
      body: { status, code, request_id: expect.any(String) },
    });
    expect(seen.noCredential).toMatchObject(problem(401, "unauthenticated"));
    expect(seen.noCredential?.headers["www-authenticate"]).toBe("Bearer");
    expect(seen.wrongMethod).toMatchObject(problem(405, "method_not_allowed"));
    expect(seen.wrongMethod?.headers.allow).toContain("GET");
    expect(seen.wrongType).toMatchObject(problem(415, "unsupported_media_type"));
    expect(seen.wrongType?.headers["accept-post"]).toBe("application/json");
    expect(seen.invalid).toMatchObject(problem(400, "validation_failed"));
    expect(seen.invalid?.body?.errors).toHaveLength(2);
    expect(seen.limited).toMatchObject(problem(429, "rate_limited"));
    expect(Number(seen.limited?.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("cannot act on another tenant: its host refuses the preflight, and its key is refused on this one", async () => {
    const seen = (await resultFrom(browser as Browser, pagesAt("/isolation"))) as Record<
      string,
      Record<string, unknown>
    >;
    // Tenant B does not list this origin: the browser refuses before the request is sent.
    expect(String(seen.bHost?.error)).toContain("TypeError");
    // On tenant A's host, B's key is a credential of another tenant, and the page reads why.
    expect(seen.aHost).toMatchObject({ status: 403, body: { code: "tenant_mismatch" } });
  });
});
