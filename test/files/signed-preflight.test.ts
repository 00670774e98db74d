import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { gateway } from "../gateway/helpers";
import { call, newTenant, ORIGIN, rootKey } from "../identity/helpers";
import { bytesOf, uploaded } from "./helpers";

const APP = "https://app.example.com";

/** A browser's preflight for a GET of `url` from `origin` that sends `headers` (not CORS-safelisted). */
const preflight = (url: string, origin: string, headers = "range, if-none-match, want-repr-digest") =>
  SELF.fetch(url, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "GET", "access-control-request-headers": headers },
  });

// A page fetching a signed URL minted on the main host with a suffix Range, If-None-Match or
// Want-Repr-Digest is preflighted first; the preflight carries the URL but no credential and,
// on the main host, no tenant. Its GET got the tenant's CORS, the preflight none, so the
// browser never sent the GET.
describe("files: a signed URL's preflight on the main host", () => {
  it("answers the tenant's allowed origins once the signature verified, and no one else", async () => {
    const t = await newTenant("fp");
    const settings = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { cors_origins: [APP] },
    });
    expect(settings.status, JSON.stringify(settings.body)).toBe(200);
    const file = await uploaded(t.adminKey, bytesOf(64));
    const signed = await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: { expires_in: 600 } });
    const url = signed.body.url as string;
    expect(new URL(url).host).toBe(new URL(ORIGIN).host);

    const ok = await preflight(url, APP);
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(APP);
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/\bRange\b/);
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/\bIf-None-Match\b/);
    // The download's other conditional fields (a page checking "still that file?"): not safelisted either.
    for (const field of ["If-Match", "If-Modified-Since", "If-Unmodified-Since"]) {
      expect(ok.headers.get("access-control-allow-headers")).toMatch(new RegExp(`\\b${field}\\b`));
    }

    // The GET the browser then sends is served with the same CORS.
    const get = await SELF.fetch(url, { headers: { origin: APP, range: "bytes=-8", "if-none-match": '"x"' } });
    expect(get.status).toBe(206);
    expect(get.headers.get("access-control-allow-origin")).toBe(APP);
    await get.arrayBuffer();

    // Another origin, a forged signature, an altered spelling, another file: no CORS.
    expect(
      (await preflight(url, "https://elsewhere.example.com")).headers.get("access-control-allow-origin"),
    ).toBeNull();
    const forged = url.replace(/sig=[^&]+/, "sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect((await preflight(forged, APP)).headers.get("access-control-allow-origin")).toBeNull();
    expect((await preflight(`${url}&x=1`, APP)).headers.get("access-control-allow-origin")).toBeNull();
    const other = await uploaded(t.adminKey, bytesOf(8));
    const moved = url.replace(file.id, other.id);
    expect((await preflight(moved, APP)).headers.get("access-control-allow-origin")).toBeNull();
    // Another route with the same query proves nothing either.
    const list = `${ORIGIN}/api/v1/files?${new URL(url).search.slice(1)}`;
    expect((await preflight(list, APP)).headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers an expired URL's preflight without CORS, as its GET", async () => {
    const t = await newTenant("fq");
    await call("/api/v1/admin/settings", { method: "PATCH", token: t.adminKey, body: { cors_origins: [APP] } });
    const file = await uploaded(t.adminKey, bytesOf(16));
    const signed = await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: { expires_in: 1 } });
    const url = signed.body.url as string;
    const exp = Number(new URL(url).searchParams.get("exp"));
    // Wait for the wall clock to pass exp (the test Worker runs on the real clock).
    while (Math.floor(Date.now() / 1000) <= exp) await new Promise((r) => setTimeout(r, 200));
    expect((await preflight(url, APP)).headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers a deleted tenant's preflights without CORS, on its URL and on its host, as one that never existed", async () => {
    const gw = gateway({}, { PLATFORM_DOMAIN: "plinth.test" });
    const t = await gw.tenant("fr");
    await gw.call("/api/v1/admin/settings", { method: "PATCH", token: t.adminKey, body: { cors_origins: [APP] } });
    const file = await uploaded(t.adminKey, bytesOf(16));
    const signed = await gw.call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: { expires_in: 600 } });
    const url = signed.body.url as string;
    const host = `http://${t.slug}.plinth.test/api/v1/me`;
    const ask = async (at: string, headers: string) => {
      const res = await gw.call(at, {
        method: "OPTIONS",
        headers: { origin: APP, "access-control-request-method": "GET", "access-control-request-headers": headers },
      });
      return res.headers.get("access-control-allow-origin");
    };
    expect(await ask(url, "range")).toBe(APP);
    expect(await ask(host, "authorization")).toBe(APP);
    const deleted = await gw.call(`/api/v1/platform/tenants/${t.id}`, { method: "DELETE", token: rootKey() });
    expect(deleted.status).toBe(202);
    // Its GET is 404 tenant_not_found, an unknown slug's preflight gets no CORS: nor may its.
    expect((await gw.call(url, { headers: { origin: APP } })).status).toBe(404);
    expect(await ask(url, "range")).toBeNull();
    expect(await ask(host, "authorization")).toBeNull();
  });
});
