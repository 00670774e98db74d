// A tenant's single-page app in Chromium, at the CORS edges a real browser has and a
// fetch from Node does not: a preflight for the headers a page's libraries add on their own
// (Cache-Control, Pragma, W3C Trace Context), the preflight cache that kept an origin's writes
// landing after the tenant removed it, and the WWW-Authenticate a page reads to tell an
// invalid token from a missing one.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowOrigins, launchChromium, page, resultFrom, servedTenant } from "./browser-page";
import { type ServedWorker, serveWorker } from "./proxy/worker";

const ROOT = path.resolve(import.meta.dirname, "../..");

let worker: ServedWorker | undefined;
let pages: Server | undefined;
let browser: Browser | undefined;
let slug = "";
let adminKey = "";
let postPath = "";

/** The tenant's own host on the served Worker (development: `<slug>.localhost`). */
const api = () => `http://${slug}.localhost:${new URL(worker?.origin ?? "http://x:0").port}`;
/** The app's origin, `http://app.localhost:<port>`. */
const appOrigin = () => {
  if (!pages) throw new Error("the page server is not running");
  return `http://app.localhost:${(pages.address() as AddressInfo).port}`;
};

/** In the page: PATCH the post's title as an HTTP library with tracing would send it; the answer, or the TypeError. */
const writePage = (title: string) =>
  page(`async () => {
    const headers = {
      Authorization: "Bearer " + ${JSON.stringify(adminKey)},
      "Content-Type": "application/json",
      "Cache-Control": "no-cache",
      Pragma: "no-cache",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      tracestate: "vendor=opaque",
    };
    const read = async (res) => ({ status: res.status, challenge: res.headers.get("www-authenticate") });
    const seen = {};
    seen.write = await fetch(${JSON.stringify(api() + postPath)}, { method: "PATCH", headers, body: JSON.stringify({ title: ${JSON.stringify(title)} }) })
      .then(read, (e) => ({ error: String(e) }));
    seen.noToken = await fetch(${JSON.stringify(`${api()}/api/v1/me`)}).then(read, (e) => ({ error: String(e) }));
    seen.badToken = await fetch(${JSON.stringify(`${api()}/api/v1/me`)}, { headers: { Authorization: "Bearer plk_not-a-key" } })
      .then(read, (e) => ({ error: String(e) }));
    return seen;
  }`);

/** Sets the tenant's cors_origins, as its administrator would with curl (no Origin). */
async function setOrigins(origins: string[]) {
  if (!worker) throw new Error("no served Worker");
  await allowOrigins(worker, adminKey, origins);
}

async function title(): Promise<string> {
  const res = await fetch(`${worker?.origin}${postPath}?consistency=strong`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  return String(((await res.json()) as { title: string }).title);
}

beforeAll(async () => {
  worker = await serveWorker(ROOT);
  slug = `cors-${Date.now().toString(36)}`;
  adminKey = await servedTenant(worker, slug, "CORS");
  const post = await fetch(`${worker.origin}/api/v1/blog/posts`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ title: "created", content: "x" }),
  });
  expect(post.status).toBe(201);
  postPath = String(post.headers.get("location"));

  pages = createServer((req, res) => {
    const at = new URL(req.url ?? "/", "http://pages");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(writePage(at.searchParams.get("title") ?? ""));
  });
  await new Promise<void>((resolve) => pages?.listen(0, "127.0.0.1", resolve));
  await setOrigins([appOrigin()]);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (pages ? pages.close(() => resolve()) : resolve()));
  await worker?.stop();
}, 30_000);

type Seen = Record<string, { status?: number; challenge?: string | null; error?: string }>;

describe("a page on an origin the tenant allows, then removes", () => {
  it("sends what its libraries add, tells a refused token from none, and stops writing once removed", async () => {
    const allowed = (await resultFrom(browser as Browser, `${appOrigin()}/?title=while%20allowed`)) as Seen;
    // The preflight let Cache-Control, Pragma, traceparent and tracestate through.
    expect(allowed.write, JSON.stringify(allowed.write)).toEqual({ status: 200, challenge: null });
    expect(await title()).toBe("while allowed");
    // A 401 the page can act on: refresh or log in again for a refused token; send one when none was.
    expect(allowed.noToken).toEqual({ status: 401, challenge: "Bearer" });
    expect(allowed.badToken?.status).toBe(401);
    expect(allowed.badToken?.challenge).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);

    await setOrigins([]);
    // The browser holds the preflight (Access-Control-Max-Age) and sends the PATCH without asking
    // again; the page cannot read the answer either way, but the post must not change.
    const removed = (await resultFrom(browser as Browser, `${appOrigin()}/?title=after%20removal`)) as Seen;
    expect(removed.write?.error).toContain("TypeError");
    expect(await title()).toBe("while allowed");
  }, 60_000);
});
