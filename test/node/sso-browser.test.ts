// Single sign-on in a real browser (headless Chromium) against the served Worker, as `npm start`
// serves it: http://<slug>.localhost, no TLS. The provider is the local stub that signs in at once
// (support/fake-oidc.ts). What it shows:
// - Chromium keeps the start's `__Host-` cookie (Secure) on http://<slug>.localhost: localhost is a
//   secure context for cookies there, so the browser binding works under `npm start`;
// - login CSRF is refused: a callback URL someone stopped at, with their code and state, opened in
//   another browser answers 400 sso_browser_mismatch and spends nothing;
// - the browser that began it completes it, and the answer clears the cookie.
// Needs Debian's Chromium (`apt-get install chromium`; .ci/run installs it).
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import puppeteer, { type Browser, type BrowserContext, type HTTPRequest, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
  const slug = `sso-web-${randomBytes(3).toString("hex")}`;
  const created = await fetch(`${worker.origin}/api/v1/platform/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${worker.rootKey}`, "content-type": "application/json" },
    body: JSON.stringify({ slug, name: "SSO web" }),
  });
  expect(created.status).toBe(201);
  const adminKey = String(((await created.json()) as { admin_key: string }).admin_key);
  const configured = await fetch(`${worker.origin}/api/v1/admin/sso`, {
    method: "PUT",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      issuer: idp.issuer,
      client_id: CLIENT_ID,
      client_secret: "browser-test-client-secret",
      allowed_domains: ["example.com"],
      default_role: "member",
      jit: true,
    }),
  });
  expect(configured.status, await configured.text()).toBe(200);
  // The tenant's own host, as a browser reaches it under `npm start` (Chromium resolves *.localhost to loopback).
  origin = `http://${slug}.localhost:${new URL(worker.origin).port}`;
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await idp?.stop();
  await worker?.stop();
}, 30_000);

const callbackPrefix = () => `${origin}/api/v1/auth/sso/callback?`;

/** A fresh browser profile (its own cookies), as another person's browser is. */
const profile = (): Promise<BrowserContext> => (browser as Browser).createBrowserContext();

/**
 * Starts a sign-in in `page` and stops where the provider sends the browser back: the callback
 * URL (with the code and the state) is what someone could send a victim. Not followed.
 */
async function stopAtCallback(page: Page): Promise<string> {
  let callback = "";
  const stop = (request: HTTPRequest) => {
    if (request.url().startsWith(callbackPrefix())) {
      callback = request.url();
      void request.abort();
    } else {
      void request.continue();
    }
  };
  await page.setRequestInterception(true);
  page.on("request", stop);
  // The navigation fails where the callback is aborted: that is the stop.
  await page.goto(`${origin}/api/v1/auth/sso/start`).catch(() => undefined);
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
