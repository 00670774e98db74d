// File digests end to end: plinth served by Miniflare, called over real HTTP from Node, its
// RFC 9530 headers read with structured-headers (an RFC 8941 parser written apart from plinth)
// and checked against node:crypto's SHA-256 of the bytes that came over the wire.
import { createHash, randomBytes } from "node:crypto";
import { type BareItem, parseDictionary, serializeDictionary } from "structured-headers";
import { describe, expect, it } from "vitest";
import { servePlinthForFile } from "./support/served-plinth";

const served = servePlinthForFile();
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest();

/** The sha-256 member of a digest field, as the independent parser reads it; undefined when absent. */
function sha256Member(field: string | null): Buffer | undefined {
  if (field === null) return undefined;
  const member = parseDictionary(field).get("sha-256") as [BareItem, Map<string, BareItem>] | undefined;
  if (!member) return undefined;
  expect(member[0]).toBeInstanceOf(ArrayBuffer);
  return Buffer.from(member[0] as ArrayBuffer);
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url.startsWith("http") ? url : `${served().origin}${url}`, {
    headers,
    signal: AbortSignal.timeout(10_000),
  });
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

async function newTenant(): Promise<{ key: string; id: string }> {
  const res = await fetch(`${served().origin}/api/v1/platform/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${served().rootKey}`, "content-type": "application/json" },
    body: JSON.stringify({ slug: `dg-${randomBytes(4).toString("hex")}`, name: "Digests" }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(body)).toBe(201);
  return { key: String(body.admin_key), id: String(body.id) };
}

async function upload(key: string, bytes: Uint8Array, headers: Record<string, string> = {}) {
  const res = await fetch(`${served().origin}/api/v1/files?name=data.zip`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/zip", ...headers },
    body: bytes,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("file digests over HTTP", () => {
  it("sends Repr-Digest that node:crypto agrees with on full, range and signed downloads, and honours Want-*", async () => {
    const { key } = await newTenant();
    const auth = { authorization: `Bearer ${key}` };
    // Several chunks' worth, so the upload hashes a stream, not one buffer.
    const bytes = new Uint8Array(randomBytes(300_000));
    const expected = sha256(bytes);
    const created = await upload(key, bytes);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.sha256).toBe(expected.toString("hex"));
    const id = String(created.body.id);

    const full = await get(`/api/v1/files/${id}`, { ...auth, "want-content-digest": "sha-256=9" });
    expect(full.res.status).toBe(200);
    expect(Buffer.from(full.bytes).equals(Buffer.from(bytes))).toBe(true);
    expect(sha256Member(full.res.headers.get("repr-digest"))).toEqual(expected);
    // Content-Digest names the content of this message: the bytes that arrived.
    expect(sha256Member(full.res.headers.get("content-digest"))).toEqual(sha256(full.bytes));

    const part = await get(`/api/v1/files/${id}`, { ...auth, range: "bytes=1000-1999" });
    expect(part.res.status).toBe(206);
    expect(part.bytes).toHaveLength(1000);
    expect(sha256Member(part.res.headers.get("repr-digest"))).toEqual(expected);
    expect(part.res.headers.get("content-digest")).toBeNull();

    const none = await get(`/api/v1/files/${id}`, { ...auth, "want-repr-digest": "sha-512=5" });
    expect(none.res.status).toBe(200);
    expect(none.res.headers.get("repr-digest")).toBeNull();

    const signed = await fetch(`${served().origin}/api/v1/files/${id}/url`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: "{}",
    });
    const { url } = (await signed.json()) as { url: string };
    expect(signed.status).toBe(200);
    const viaUrl = await get(url.replace(/^https?:\/\/[^/]+/, served().origin));
    expect(viaUrl.res.status).toBe(200);
    expect(sha256Member(viaUrl.res.headers.get("repr-digest"))).toEqual(sha256(viaUrl.bytes));
    expect(sha256Member(viaUrl.res.headers.get("repr-digest"))).toEqual(expected);
  });

  it("takes a Repr-Digest written by a structured-field serialiser, and refuses one that does not match", async () => {
    const { key } = await newTenant();
    const bytes = new Uint8Array(randomBytes(5_000));
    const field = (digest: Buffer) => serializeDictionary({ "sha-256": new Uint8Array(digest) });
    const wrong = await upload(key, bytes, { "repr-digest": field(sha256(new Uint8Array([1, 2, 3]))) });
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe("digest_mismatch");
    const right = await upload(key, bytes, { "repr-digest": field(sha256(bytes)) });
    expect(right.status, JSON.stringify(right.body)).toBe(201);
  });

  it("serves an object stored without a recorded digest with no digest and no error", async () => {
    const { key, id: tenantId } = await newTenant();
    const id = "01JZZZZZZZZZZZZZZZZZZZZZZZ";
    const bucket = await served().mf.getR2Bucket("FILES");
    await bucket.put(`${tenantId}/${id}`, new Uint8Array([1, 2, 3]), { httpMetadata: { contentType: "text/plain" } });
    const res = await get(`/api/v1/files/${id}`, { authorization: `Bearer ${key}` });
    expect(res.res.status).toBe(200);
    expect(Array.from(res.bytes)).toEqual([1, 2, 3]);
    expect(res.res.headers.get("repr-digest")).toBeNull();
  });
});
