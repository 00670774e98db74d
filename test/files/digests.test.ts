import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { call, newTenant, ORIGIN } from "../identity/helpers";
import { bytesOf, type FileJson, fetchBytes, sha256Hex, upload, uploaded } from "./helpers";

// RFC 9530 digests on downloads and uploads. The expected field values are computed here with
// WebCrypto, independently of the module (which hashes with @noble/hashes while the bytes stream).

const base64 = (bytes: Uint8Array) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
const sha256Field = async (bytes: Uint8Array) =>
  `sha-256=:${base64(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)))}:`;
const usageOf = async (token: string) => (await call("/api/v1/admin/files/quota", { token })).body;

describe("files (RFC 9530 digests)", () => {
  it("sends the whole file's Repr-Digest on full and range downloads, and Content-Digest on a 200 when asked", async () => {
    const t = await newTenant();
    const bytes = bytesOf(10_000, 5);
    const file = await uploaded(t.adminKey, bytes);
    const whole = await sha256Field(bytes);

    const full = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey);
    expect(full.res.status).toBe(200);
    expect(full.bytes).toEqual(bytes);
    expect(full.res.headers.get("repr-digest")).toBe(whole);
    // Not asked for: Repr-Digest already names these bytes.
    expect(full.res.headers.get("content-digest")).toBeNull();
    // An intermediary that compressed the bytes would make both digests lie.
    expect(full.res.headers.get("cache-control")).toBe("private, no-store, no-transform");

    const asked = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey, { "want-content-digest": "sha-256=5" });
    expect(asked.res.headers.get("content-digest")).toBe(whole);
    expect(asked.res.headers.get("repr-digest")).toBe(whole);

    // A range: Repr-Digest is still the whole file's; Content-Digest (of these 100 bytes) is not sent.
    const part = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey, {
      range: "bytes=100-199",
      "want-content-digest": "sha-256=10",
    });
    expect(part.res.status).toBe(206);
    expect(part.bytes).toEqual(bytes.slice(100, 200));
    expect(part.res.headers.get("repr-digest")).toBe(whole);
    expect(part.res.headers.get("content-digest")).toBeNull();

    // HEAD: the digest without the bytes; no Content-Digest, since a HEAD answer has no content.
    const head = await SELF.fetch(`${ORIGIN}/api/v1/files/${file.id}`, {
      method: "HEAD",
      headers: { authorization: `Bearer ${t.adminKey}`, "want-content-digest": "sha-256=1" },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get("repr-digest")).toBe(whole);
    expect(head.headers.get("content-digest")).toBeNull();
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    // The list says the same digest in hex: a client can check a copy without downloading it.
    const listed = (await call("/api/v1/files", { token: t.adminKey })).body.items as FileJson[];
    expect(listed.map((f) => f.sha256)).toEqual([await sha256Hex(bytes)]);
  });

  it("sends the digests on a signed URL's downloads too", async () => {
    const t = await newTenant();
    const bytes = bytesOf(3_000, 9);
    const file = await uploaded(t.adminKey, bytes, "photo.png", "image/png");
    const signed = await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: {} });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    const url = String(signed.body.url);
    const whole = await sha256Field(bytes);

    const full = await fetchBytes(url, undefined, { "want-content-digest": "sha-256=3" });
    expect(full.res.status).toBe(200);
    expect(full.res.headers.get("repr-digest")).toBe(whole);
    expect(full.res.headers.get("content-digest")).toBe(whole);
    const part = await fetchBytes(url, undefined, { range: "bytes=-10" });
    expect(part.res.status).toBe(206);
    expect(part.bytes).toEqual(bytes.slice(-10));
    expect(part.res.headers.get("repr-digest")).toBe(whole);
  });

  it("answers Want-Repr-Digest: one that excludes sha-256 gets no digest, a malformed one is ignored", async () => {
    const t = await newTenant();
    const bytes = bytesOf(500, 2);
    const file = await uploaded(t.adminKey, bytes);
    const whole = await sha256Field(bytes);
    const reprFor = async (want: Record<string, string>) =>
      (await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey, want)).res.headers.get("repr-digest");

    // Only algorithms plinth does not compute, or sha-256 at preference 0 ("not acceptable").
    expect(await reprFor({ "want-repr-digest": "sha-512=3" })).toBeNull();
    expect(await reprFor({ "want-repr-digest": "sha-256=0, sha-512=10" })).toBeNull();
    expect(await reprFor({ "want-repr-digest": "sha-512=3, sha-256=1" })).toBe(whole);
    // Not a Dictionary of Integers 0-10: RFC 8941 has a field that fails to parse ignored.
    expect(await reprFor({ "want-repr-digest": "sha-256" })).toBe(whole);
    expect(await reprFor({ "want-repr-digest": "sha-256=11" })).toBe(whole);
    // Want-Content-Digest excluding sha-256 leaves Content-Digest out, and Repr-Digest as it was.
    const full = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey, { "want-content-digest": "sha-256=0" });
    expect(full.res.headers.get("content-digest")).toBeNull();
    expect(full.res.headers.get("repr-digest")).toBe(whole);
  });

  it("serves a file with no recorded digest (stored before digests were kept) without one, and without error", async () => {
    const t = await newTenant();
    const id = "01JZZZZZZZZZZZZZZZZZZZZZZZ";
    const bytes = bytesOf(64, 4);
    await env.FILES.put(`${t.id}/${id}`, bytes, { httpMetadata: { contentType: "text/plain" } });
    const full = await fetchBytes(`/api/v1/files/${id}`, t.adminKey, { "want-content-digest": "sha-256=1" });
    expect(full.res.status).toBe(200);
    expect(full.bytes).toEqual(bytes);
    expect(full.res.headers.get("repr-digest")).toBeNull();
    expect(full.res.headers.get("content-digest")).toBeNull();
    const part = await fetchBytes(`/api/v1/files/${id}`, t.adminKey, { range: "bytes=0-3" });
    expect(part.res.status).toBe(206);
    expect(part.res.headers.get("repr-digest")).toBeNull();
  });

  it("serves the bytes without digests when the recorded digest cannot be read, rather than failing", async () => {
    const t = await newTenant();
    const bytes = bytesOf(200, 8);
    const file = await uploaded(t.adminKey, bytes);
    // Read models on a libSQL server that is not there: the digest's lookup fails, the download must not.
    const { fetch } = testApp(modules, { READ_MODEL_URL: "http://127.0.0.1:9" });
    const res = await fetch(`/api/v1/files/${file.id}`, { headers: { authorization: `Bearer ${t.adminKey}` } });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    expect(res.headers.get("repr-digest")).toBeNull();
  });

  it("refuses an upload whose Repr-Digest is not the bytes' SHA-256 as it refuses Content-Digest, keeping nothing", async () => {
    const t = await newTenant();
    const bytes = bytesOf(100, 6);
    const wrong = `sha-256=:${base64(new Uint8Array(32))}:`;
    const mismatch = await upload(t.adminKey, bytes, { headers: { "repr-digest": wrong } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.code).toBe("digest_mismatch");
    // Both digests as the field writes them, so the client compares base64 with base64.
    expect(mismatch.body.detail).toBe(
      `Repr-Digest declared ${wrong}, but the body received is ${await sha256Field(bytes)} (hex ${await sha256Hex(bytes)})`,
    );
    // A right Content-Digest does not cover a wrong Repr-Digest: they name the same bytes.
    const both = await upload(t.adminKey, bytes, {
      headers: { "content-digest": await sha256Field(bytes), "repr-digest": wrong },
    });
    expect(both.status).toBe(400);
    expect(both.body.code).toBe("digest_mismatch");
    expect(await usageOf(t.adminKey)).toMatchObject({ used_bytes: 0, files: 0 });

    // Another algorithm alone is refused as Content-Digest's is: the bytes would go unverified.
    const other = await upload(t.adminKey, bytes, { headers: { "repr-digest": "sha-512=:AAAA:" } });
    expect(other.status).toBe(400);
    expect(other.body.code).toBe("validation_failed");
    expect(other.body.errors).toEqual([
      { path: "header.repr-digest", message: "sha-256=:<base64 of 32 bytes>: (RFC 9530)" },
    ]);

    const right = await upload(t.adminKey, bytes, { headers: { "repr-digest": await sha256Field(bytes) } });
    expect(right.status, JSON.stringify(right.body)).toBe(201);
    expect(right.body.sha256).toBe(await sha256Hex(bytes));
  });
});

describe("files digests in /openapi.json", () => {
  type Op = { parameters?: { name: string; in: string }[]; responses: Record<string, { headers?: object }> };
  it("documents the Want-* request headers and the digest response headers of both downloads, and Repr-Digest on uploads", async () => {
    const doc = (await (await SELF.fetch(`${ORIGIN}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Op>>;
    };
    const headerNames = (op: Op | undefined) =>
      (op?.parameters ?? []).filter((p) => p.in === "header").map((p) => p.name);
    for (const path of ["/api/v1/files/{id}", "/api/v1/files/{id}/download"]) {
      const get = doc.paths[path]?.get;
      expect(headerNames(get), path).toEqual(expect.arrayContaining(["want-repr-digest", "want-content-digest"]));
      // Beside the kernel's RateLimit headers and the file's ETag (declared on every download answer).
      expect(Object.keys(get?.responses["200"]?.headers ?? {}), path).toEqual(
        expect.arrayContaining(["ETag", "Repr-Digest", "Content-Digest"]),
      );
      const partial = Object.keys(get?.responses["206"]?.headers ?? {});
      expect(partial, path).toEqual(expect.arrayContaining(["ETag", "Repr-Digest"]));
      expect(partial, path).not.toContain("Content-Digest");
    }
    expect(headerNames(doc.paths["/api/v1/files"]?.post)).toEqual(
      expect.arrayContaining(["content-digest", "repr-digest"]),
    );
  });
});
