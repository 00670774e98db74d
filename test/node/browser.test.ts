// A real browser against the served Worker: a page on an origin the tenant
// allows calls the API with fetch (CORS preflight and all) and reads a JSON
// body and the RateLimit header, uploads a file, and fetches a signed download
// URL minted on the main host with Range and If-None-Match (a suffix range and
// If-None-Match are preflighted, on a host that names no tenant); from another origin the same calls fail; and
// the /docs page sends a request with its try-it form and shows the answer.
// Needs Debian's Chromium (`apt-get install chromium`; .ci/run installs it).
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowOrigins, launchChromium, page, resultFrom as resultIn, servedTenant } from "./browser-page";
import { type ServedWorker, serveWorker } from "./proxy/worker";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Calls the API once with the key and reads the JSON body and the RateLimit header. */
const mePage = (api: string, key: string) =>
  page(`async () => {
    const res = await fetch(${JSON.stringify(`${api}/api/v1/me`)}, { headers: { Authorization: ${JSON.stringify(`Bearer ${key}`)} } });
    const body = await res.json();
    return { status: res.status, kind: body.kind, ratelimit: res.headers.get("RateLimit") };
  }`);

/**
 * Fetches a signed download URL as an app's page would: its first bytes (`Range: bytes=0-3`), its
 * last (`bytes=-4`), then again with the ETag the first answer exposed in `If-None-Match`. Each
 * step is reported on its own ({ error } when the fetch rejected), so a failure names the one
 * the browser refused. `bytes=0-3` is a simple range, which the Fetch standard safelists (no
 * preflight: it worked before the files module's `auth.url_tenants`); a suffix range and
 * `If-None-Match` are not, so each is preflighted, and the preflight carries the URL but no
 * credential and, on the main host, no tenant.
 */
const downloadPage = (url: string) =>
  page(`async () => {
    const url = ${JSON.stringify(url)};
    const step = (run) => run().catch((e) => ({ error: String(e) }));
    const ranged = (range) => step(async () => {
      const res = await fetch(url, { headers: { Range: range } });
      return {
        status: res.status, bytes: Array.from(new Uint8Array(await res.arrayBuffer())),
        contentRange: res.headers.get("Content-Range"), etag: res.headers.get("ETag"),
      };
    });
    const head = await ranged("bytes=0-3");
    const tail = await ranged("bytes=-4");
    const etag = head.etag ?? tail.etag ?? '"none"';
    const cached = await step(async () => {
      const res = await fetch(url, { headers: { "If-None-Match": etag } });
      return { status: res.status, length: (await res.arrayBuffer()).byteLength, etag: res.headers.get("ETag") };
    });
    return { head, tail, cached };
  }`);

/** Uploads a text file with fetch as docs/files.md says: the raw body, its type, the length the browser sets. */
const uploadPage = (api: string, key: string, text: string) =>
  page(`async () => {
    const res = await fetch(${JSON.stringify(`${api}/api/v1/files?name=from-browser.txt`)}, {
      method: "POST",
      headers: { Authorization: ${JSON.stringify(`Bearer ${key}`)}, "Content-Type": "text/plain; charset=utf-8" },
      body: new TextEncoder().encode(${JSON.stringify(text)}),
    });
    const body = await res.json();
    return { status: res.status, location: res.headers.get("Location"), file: body };
  }`);

let worker: ServedWorker | undefined;
let pages: Server | undefined;
let browser: Browser | undefined;
let slug = "";
let adminKey = "";
/** The stored file's bytes and a signed URL to it minted on the main host (no tenant in its host). */
const FILE_BYTES = new TextEncoder().encode("plinth in a browser: 0123456789");
let signedUrl = "";
const UPLOADED = "uploaded by a page, é and all";

beforeAll(async () => {
  // Signed URLs derive their keys from ENCRYPTION_KEYS (docs/files.md); the served Worker has none by default.
  const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1)).toString("base64url");
  worker = await serveWorker(ROOT, { vars: { ENCRYPTION_KEYS: JSON.stringify([{ version: 1, key }]) } });
  slug = `web-${Date.now().toString(36)}`;
  adminKey = await servedTenant(worker, slug, "Web");

  // The app's backend stores a file and mints its URL on the main host with its key, then hands the URL to its page.
  const stored = await fetch(`${worker.origin}/api/v1/files?name=bytes.txt`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "text/plain" },
    body: FILE_BYTES,
  });
  expect(stored.status).toBe(201);
  const fileId = String(((await stored.json()) as { id: string }).id);
  const minted = await fetch(`${worker.origin}/api/v1/files/${fileId}/url`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ expires_in: 600 }),
  });
  expect(minted.status).toBe(200);
  signedUrl = String(((await minted.json()) as { url: string }).url);
  expect(new URL(signedUrl).host).toBe(new URL(worker.origin).host);

  pages = createServer((req, res) => {
    const at = new URL(req.url ?? "/", "http://pages").pathname;
    const html =
      at === "/download"
        ? downloadPage(signedUrl)
        : at === "/upload"
          ? uploadPage(api(), adminKey, UPLOADED)
          : mePage(api(), adminKey);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise<void>((resolve) => pages?.listen(0, "127.0.0.1", resolve));
  const allowed = `http://allowed.localhost:${(pages.address() as AddressInfo).port}`;
  await allowOrigins(worker, adminKey, [allowed]);

  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (pages ? pages.close(() => resolve()) : resolve()));
  await worker?.stop();
}, 30_000);

/** The tenant's own host on the served Worker (development: `<slug>.localhost`). */
const api = () => `http://${slug}.localhost:${new URL(worker?.origin ?? "http://x:0").port}`;
const pagesAt = (host: string, at = "/") => {
  if (!pages) throw new Error("the page server is not running");
  return `http://${host}:${(pages.address() as AddressInfo).port}${at}`;
};

/** The files of the tenant, as its key lists them. */
async function listedNames(): Promise<string[]> {
  const res = await fetch(`${worker?.origin}/api/v1/files?limit=100`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: { name: string }[] }).items.map((f) => f.name);
}

const resultFrom = (url: string) => resultIn(browser as Browser, url);

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

describe("a browser page and the files module", () => {
  it("fetches a signed URL on the main host from an allowed origin: 206 with the exact bytes, then 304 for its ETag", async () => {
    const result = (await resultFrom(pagesAt("allowed.localhost", "/download"))) as Record<
      string,
      Record<string, unknown>
    >;
    const size = FILE_BYTES.length;
    expect(result.head).toEqual({
      status: 206,
      bytes: Array.from(FILE_BYTES.slice(0, 4)),
      contentRange: `bytes 0-3/${size}`,
      etag: expect.stringMatching(/^"[^"]+"$/),
    });
    expect(result.tail).toMatchObject({
      status: 206,
      bytes: Array.from(FILE_BYTES.slice(size - 4)),
      contentRange: `bytes ${size - 4}-${size - 1}/${size}`,
    });
    // A conditional request the page made itself: the fetch spec bypasses the HTTP cache and hands the 304 over.
    expect(result.cached).toEqual({ status: 304, length: 0, etag: result.head?.etag });
  });

  it("cannot read the signed URL from an origin the tenant did not allow", async () => {
    const result = (await resultFrom(pagesAt("elsewhere.localhost", "/download"))) as Record<
      string,
      Record<string, unknown>
    >;
    for (const step of ["head", "tail", "cached"]) expect(String(result[step]?.error), step).toContain("TypeError");
  });

  it("uploads a file with fetch from an allowed origin, and stores its exact bytes", async () => {
    const result = await resultFrom(pagesAt("allowed.localhost", "/upload"));
    const sent = new TextEncoder().encode(UPLOADED);
    const file = result.file as Record<string, unknown>;
    expect(result).toMatchObject({ status: 201, location: `/api/v1/files/${file.id}` });
    expect(file).toMatchObject({
      name: "from-browser.txt",
      content_type: "text/plain; charset=utf-8",
      size: sent.length,
      sha256: createHash("sha256").update(sent).digest("hex"),
    });
    const back = await fetch(`${worker?.origin}/api/v1/files/${file.id}`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(new Uint8Array(await back.arrayBuffer())).toEqual(sent);
  });

  it("cannot upload from an origin the tenant did not allow: the preflight fails and nothing is sent", async () => {
    const before = (await listedNames()).filter((n) => n === "from-browser.txt").length;
    const result = await resultFrom(pagesAt("elsewhere.localhost", "/upload"));
    expect(String(result.error)).toContain("TypeError");
    expect((await listedNames()).filter((n) => n === "from-browser.txt")).toHaveLength(before);
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
