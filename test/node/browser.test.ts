// A real browser against the served Worker: a page on an origin the tenant
// allows calls the API with fetch (CORS preflight and all) and reads a JSON
// body and the RateLimit header; from another origin the same call fails; and
// the /docs page sends a request with its try-it form and shows the answer.
// Needs Debian's Chromium (`apt-get install chromium`; .ci/run installs it).
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedWorker, serveWorker } from "./proxy/worker";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium"; // scripts/lib/debian-tools.mjs installs it

/** A page whose script calls the API once and writes what it got into #out. */
const page = (api: string, key: string) => `<!doctype html><meta charset="utf-8"><title>client</title>
<pre id="out">pending</pre>
<script>
  fetch(${JSON.stringify(`${api}/api/v1/me`)}, { headers: { Authorization: ${JSON.stringify(`Bearer ${key}`)} } })
    .then(async (res) => {
      const body = await res.json();
      document.getElementById("out").textContent = JSON.stringify({
        status: res.status, kind: body.kind, ratelimit: res.headers.get("RateLimit"),
      });
    })
    .catch((e) => { document.getElementById("out").textContent = JSON.stringify({ error: String(e) }); });
</script>`;

let worker: ServedWorker | undefined;
let pages: Server | undefined;
let browser: Browser | undefined;
let slug = "";
let adminKey = "";

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  worker = await serveWorker(ROOT);
  slug = `web-${Date.now().toString(36)}`;
  const created = await fetch(`${worker.origin}/api/v1/platform/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${worker.rootKey}`, "content-type": "application/json" },
    body: JSON.stringify({ slug, name: "Web" }),
  });
  expect(created.status).toBe(201);
  adminKey = String(((await created.json()) as { admin_key: string }).admin_key);

  pages = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(page(api(), adminKey));
  });
  await new Promise<void>((resolve) => pages?.listen(0, "127.0.0.1", resolve));
  const allowed = `http://allowed.localhost:${(pages.address() as AddressInfo).port}`;
  const set = await fetch(`${worker.origin}/api/v1/admin/settings`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ cors_origins: [allowed] }),
  });
  expect(set.status).toBe(200);

  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (pages ? pages.close(() => resolve()) : resolve()));
  await worker?.stop();
}, 30_000);

/** The tenant's own host on the served Worker (development: `<slug>.localhost`). */
const api = () => `http://${slug}.localhost:${new URL(worker?.origin ?? "http://x:0").port}`;
const pagesAt = (host: string) => {
  if (!pages) throw new Error("the page server is not running");
  return `http://${host}:${(pages.address() as AddressInfo).port}/`;
};

async function resultFrom(url: string): Promise<Record<string, unknown>> {
  const tab = await (browser as Browser).newPage();
  try {
    await tab.goto(url);
    // Evaluated in the page, as source text: this file is compiled without the DOM's types.
    await tab.waitForFunction('document.getElementById("out").textContent !== "pending"', { timeout: 20_000 });
    const text = await tab.evaluate('document.getElementById("out").textContent');
    return JSON.parse(String(text)) as Record<string, unknown>;
  } finally {
    await tab.close();
  }
}

describe("a browser on a tenant's allowed origin", () => {
  it("calls the API with fetch and reads the JSON body and the RateLimit header", async () => {
    const result = await resultFrom(pagesAt("allowed.localhost"));
    expect(result).toMatchObject({ status: 200, kind: "api_key" });
    expect(String(result.ratelimit)).toMatch(/^"principal";r=\d+;t=\d+/);
  });

  it("cannot read the API from an origin the tenant did not allow", async () => {
    const result = await resultFrom(pagesAt("elsewhere.localhost"));
    expect(String(result.error)).toContain("TypeError");
  });
});

describe("the /docs page", () => {
  it("sends a request with its try-it form and shows the answer", async () => {
    const tab = await (browser as Browser).newPage();
    try {
      await tab.goto(`${worker?.origin}/docs`);
      await tab.waitForSelector("#op-getSystemInfo summary", { timeout: 20_000 });
      await tab.click("#op-getSystemInfo summary");
      await tab.click("#op-getSystemInfo .try .btn-primary");
      await tab.waitForSelector("#op-getSystemInfo .try-out .status", { timeout: 20_000 });
      const status = await tab.evaluate('document.querySelector("#op-getSystemInfo .try-out .status").textContent');
      const shown = await tab.evaluate('document.querySelector("#op-getSystemInfo .try-out").textContent');
      expect(status).toBe("200 OK");
      expect(String(shown)).toContain('"modules"');
    } finally {
      await tab.close();
    }
  });
});
