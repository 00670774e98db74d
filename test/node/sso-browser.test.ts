// Single sign-on in a real browser (headless Chromium) against the served Worker, as `npm start`
// serves it: http://<slug>.localhost, no TLS. The provider is the local stub that signs in at once
// (support/fake-oidc.ts). What it shows:
// - Chromium keeps the start's `__Host-` cookie (Secure) on http://<slug>.localhost: localhost is a
//   secure context for cookies there, so the browser binding works under `npm start`;
// - login CSRF is refused: a callback URL someone stopped at, with their code and state, opened in
//   another browser answers 400 sso_browser_mismatch and spends nothing;
// - the browser that began it completes it, and the answer clears the cookie;
// - an explicit link (begun by the app's fetch, so bound to no browser) hands out no session at its
//   callback: a member's link callback URL opened in a victim's browser links the member's identity
//   to the member's account, and the victim's browser gets no tokens of it.
// Needs Debian's Chromium (`apt-get install chromium`; .ci/run installs it).
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import puppeteer, { type Browser, type BrowserContext, type HTTPRequest, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "./proxy/served-api";
import { type ServedWorker, serveWorker } from "./proxy/worker";
import { type FakeProvider, startFakeProvider } from "./support/fake-oidc";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium";
const COOKIE = "__Host-plinth-sso";
const CLIENT_ID = "plinth-browser";

let worker: ServedWorker | undefined;
let idp: FakeProvider | undefined;
let browser: Browser | undefined;
let origin = "";

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  worker = await serveWorker(ROOT, {
    vars: { ENCRYPTION_KEYS: JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]) },
  });
  idp = await startFakeProvider({ client_id: CLIENT_ID });
  origin = (await tenantWithSso("sso-web", () => ({ jit: true }))).origin;
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
}, 120_000);

/**
 * A tenant whose provider is the stub: its own origin, as a browser reaches it under `npm start`
 * (Chromium resolves *.localhost to loopback), and its admin key.
 */
async function tenantWithSso(prefix: string, extra: (origin: string) => Record<string, unknown>) {
  const served = worker as ServedWorker;
  const slug = `${prefix}-${randomBytes(3).toString("hex")}`;
  const origin = `http://${slug}.localhost:${new URL(served.origin).port}`;
  const created = await fetch(`${served.origin}/api/v1/platform/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${served.rootKey}`, "content-type": "application/json" },
    body: JSON.stringify({ slug, name: "SSO web" }),
  });
  expect(created.status).toBe(201);
  const adminKey = String(((await created.json()) as { admin_key: string }).admin_key);
  const configured = await fetch(`${served.origin}/api/v1/admin/sso`, {
    method: "PUT",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      issuer: (idp as FakeProvider).issuer,
      client_id: CLIENT_ID,
      client_secret: "browser-test-client-secret",
      allowed_domains: ["example.com"],
      default_role: "member",
      ...extra(origin),
    }),
  });
  expect(configured.status, await configured.text()).toBe(200);
  return { slug, adminKey, origin };
}

afterAll(async () => {
  await browser?.close();
  await idp?.stop();
  await worker?.stop();
}, 30_000);

const callbackPrefix = (at = origin) => `${at}/api/v1/auth/sso/callback?`;

/** A fresh browser profile (its own cookies), as another person's browser is. */
const profile = (): Promise<BrowserContext> => (browser as Browser).createBrowserContext();

/**
 * Starts a sign-in in `page` (at `start`: the tenant's `/auth/sso/start` by default, or a link's
 * `authorization_url`) and stops where the provider sends the browser back: the callback URL (with
 * the code and the state) is what someone could send a victim. Not followed. `at`: the tenant's origin.
 */
async function stopAtCallback(page: Page, start = `${origin}/api/v1/auth/sso/start`, at = origin): Promise<string> {
  let callback = "";
  const stop = (request: HTTPRequest) => {
    if (request.url().startsWith(callbackPrefix(at))) {
      callback = request.url();
      void request.abort();
    } else {
      void request.continue();
    }
  };
  await page.setRequestInterception(true);
  page.on("request", stop);
  // The navigation fails where the callback is aborted: that is the stop.
  await page.goto(start).catch(() => undefined);
  page.off("request", stop);
  await page.setRequestInterception(false);
  expect(callback, "the provider sent the browser back to the callback").not.toBe("");
  return callback;
}

/** Opens `url` in `page`; the status and the JSON body the page shows. */
async function open(page: Page, url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await page.goto(url);
  const text = await page.evaluate("document.body.innerText");
  return { status: res?.status() ?? 0, body: JSON.parse(String(text)) as Record<string, unknown> };
}

describe("single sign-on in Chromium, bound to the browser that began it", () => {
  it("keeps the __Host- cookie on http://<slug>.localhost, Secure, HttpOnly, SameSite=Lax", async () => {
    const context = await profile();
    try {
      const page = await context.newPage();
      await stopAtCallback(page);
      const cookies = await page.cookies(origin);
      const binding = cookies.find((c) => c.name === COOKIE);
      expect(binding, JSON.stringify(cookies)).toBeDefined();
      expect(binding).toMatchObject({ secure: true, httpOnly: true, sameSite: "Lax", path: "/" });
      expect(binding?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // Host-only (no Domain): another tenant's subdomain neither sees nor sets it.
      expect(binding?.domain).toBe(new URL(origin).hostname);
      expect(binding?.expires ?? 0).toBeGreaterThan(Date.now() / 1000 + 500);
    } finally {
      await context.close();
    }
  });

  it("refuses someone's callback URL opened in another browser (login CSRF); theirs still completes and clears the cookie", async () => {
    const attacker = await profile();
    const victim = await profile();
    try {
      const attackerPage = await attacker.newPage();
      const callback = await stopAtCallback(attackerPage);

      const victimPage = await victim.newPage();
      const refused = await open(victimPage, callback);
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe("sso_browser_mismatch");
      expect(JSON.stringify(refused.body)).not.toContain("access_token");
      expect(await victimPage.cookies(origin)).toEqual([]);

      // Refused before the provider was asked: the state is unspent, and the browser that began the
      // sign-in completes it with its cookie.
      const own = await open(attackerPage, callback);
      expect(own.status, JSON.stringify(own.body)).toBe(200);
      expect(String(own.body.access_token)).toMatch(/^ey/);
      expect((await attackerPage.cookies(origin)).map((c) => c.name)).not.toContain(COOKIE);
    } finally {
      await attacker.close();
      await victim.close();
    }
  });

  it("a browser's own sign-in, start to tokens, with no stop on the way", async () => {
    const context = await profile();
    try {
      const page = await context.newPage();
      const done = await open(page, `${origin}/api/v1/auth/sso/start`);
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(done.body.token_type).toBe("Bearer");
      expect(page.url().startsWith(callbackPrefix())).toBe(true);
      expect(await page.cookies(origin)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

/**
 * A request the app makes on the tenant's origin (from Node: the API's own pages let no script
 * fetch), the Host header naming that origin as the app's fetch does: tokens are issued per origin.
 */
function onTenant(
  at: string,
  method: "GET" | "POST",
  path: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(`${at}${path}`);
  const payload = body === undefined ? "" : JSON.stringify(body);
  const headers: Record<string, string | number> = { host: url.host, "content-length": Buffer.byteLength(payload) };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: url.port, path: `${url.pathname}${url.search}`, method, headers },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

describe("an explicit link's callback, bound to no browser, hands out no session", () => {
  it("a member's link callback URL opened in a victim's browser links the member's identity and gives the victim no tokens", async () => {
    // The stub provider signs everyone in as tampered@example.com: that is the member's account here.
    // The app's own page (http only on plain localhost, as app redirects allow in development).
    const appUrl = `http://localhost:${new URL((worker as ServedWorker).origin).port}/app/linked`;
    const t = await tenantWithSso("sso-link-web", () => ({ app_redirect_uris: [appUrl] }));
    const password = "the member's long password";
    const account = { email: "tampered@example.com", password, name: "Mallory" };
    const reg = await onTenant(t.origin, "POST", "/api/v1/auth/register", null, account);
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const login = await onTenant(t.origin, "POST", "/api/v1/auth/login", null, { email: account.email, password });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const token = String(login.body.access_token);
    /** The app's link request (`POST /me/sso/link`): where to send the browser. */
    const beginLink = async (body: Record<string, unknown>) => {
      const res = await onTenant(t.origin, "POST", "/api/v1/me/sso/link", token, { password, ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return String(res.body.authorization_url);
    };

    const member = await profile();
    const victim = await profile();
    try {
      // The member's app begins a link of the member's own account and stops at the provider's redirect back.
      const memberPage = await member.newPage();
      const callback = await stopAtCallback(memberPage, await beginLink({}), t.origin);

      // The victim's browser follows it: the link happens (it is the member's to make), no session is handed out.
      const victimPage = await victim.newPage();
      const linked = await open(victimPage, callback);
      expect(linked.status, JSON.stringify(linked.body)).toBe(200);
      expect(linked.body).not.toHaveProperty("access_token");
      expect(linked.body).not.toHaveProperty("refresh_token");
      expect(linked.body).toEqual({ linked: true, issuer: (idp as FakeProvider).issuer });

      // With an app redirect, the fragment says the link happened, and carries no token either.
      const appCallback = await stopAtCallback(memberPage, await beginLink({ redirect_uri: appUrl }), t.origin);
      await victimPage.goto(appCallback);
      const landed = new URL(victimPage.url());
      expect(`${landed.origin}${landed.pathname}`).toBe(appUrl);
      const fragment = new URLSearchParams(landed.hash.slice(1));
      expect(fragment.get("access_token")).toBeNull();
      expect(Object.fromEntries(fragment)).toEqual({ linked: "true", issuer: (idp as FakeProvider).issuer });

      // The member's account has its password session only: none was started in the victim's browser.
      const sessions = await onTenant(t.origin, "GET", "/api/v1/me/sessions", token);
      expect(sessions.body.items, JSON.stringify(sessions.body)).toHaveLength(1);
      // The link is recorded once (the second callback found it linked already), naming the member as its actor.
      const memberId = String(reg.body.id);
      // A marker after both callbacks, through the same directory outbox: a registration. Once its
      // entry is in, a second link entry (written before it) has had its chance to arrive too.
      const marker = await onTenant(t.origin, "POST", "/api/v1/auth/register", null, {
        email: `marker-${Date.now().toString(36)}@example.com`,
        password,
        name: "Marker",
      });
      expect(marker.status, JSON.stringify(marker.body)).toBe(201);
      await until("the marker in the audit log", async () => {
        const res = await onTenant(t.origin, "GET", "/api/v1/admin/audit?action=identity.user.registered", t.adminKey);
        const items = (res.body.items as Record<string, unknown>[] | undefined) ?? [];
        return items.some((e) => String(e.target).endsWith(`/user/${marker.body.id}`)) ? true : undefined;
      });
      const linkedEntries = await until("the link in the audit log", async () => {
        const res = await onTenant(t.origin, "GET", "/api/v1/admin/audit?action=identity.sso.linked", t.adminKey);
        const items = (res.body.items as Record<string, unknown>[] | undefined) ?? [];
        return items.length > 0 ? items : undefined;
      });
      expect(linkedEntries.map((e) => e.actor)).toEqual([{ kind: "user", id: memberId }]);
    } finally {
      await member.close();
      await victim.close();
    }
  });
});
