import { describe, expect, it } from "vitest";
import { call, newTenant } from "../identity/helpers";
import { bytesOf, eventually, type FileJson, fetchBytes, sha256Hex, upload, uploaded } from "./helpers";

const listIds = async (token: string) =>
  ((await call("/api/v1/files?limit=100", { token })).body.items as FileJson[]).map((f) => f.id);

describe("files (happy)", () => {
  it("uploads with the SHA-256 of the bytes, lists, downloads whole and by range, deletes", async () => {
    const t = await newTenant();
    const bytes = bytesOf(10_000);
    const res = await upload(t.adminKey, bytes, { name: "../../report 2026.txt", type: "text/plain; charset=UTF-8" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const file = res.body as unknown as FileJson;
    expect(file).toMatchObject({
      name: "report 2026.txt",
      content_type: "text/plain; charset=utf-8",
      size: 10_000,
      sha256: await sha256Hex(bytes),
    });
    expect(file.id).toMatch(/^[0-9A-Z]{26}$/);
    expect(res.headers.get("location")).toBe(`/api/v1/files/${file.id}`);

    // The upload answered after the FileStore projected it: the list shows it at once.
    expect(await listIds(t.adminKey)).toEqual([file.id]);

    const whole = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey);
    expect(whole.res.status).toBe(200);
    expect(whole.bytes).toEqual(bytes);
    expect(whole.res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(whole.res.headers.get("content-length")).toBe("10000");
    expect(whole.res.headers.get("accept-ranges")).toBe("bytes");
    expect(whole.res.headers.get("etag")).toMatch(/^".+"$/);
    expect(whole.res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(whole.res.headers.get("content-disposition")).toBe(
      `attachment; filename="report 2026.txt"; filename*=UTF-8''report%202026.txt`,
    );
    expect(whole.res.headers.get("content-security-policy")).toContain("sandbox");

    const part = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey, { range: "bytes=100-199" });
    expect(part.res.status).toBe(206);
    expect(part.res.headers.get("content-range")).toBe("bytes 100-199/10000");
    expect(part.bytes).toEqual(bytes.slice(100, 200));

    const tail = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey, { range: "bytes=-7" });
    expect(tail.res.status).toBe(206);
    expect(tail.bytes).toEqual(bytes.slice(-7));

    const past = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey, { range: "bytes=10000-" });
    expect(past.res.status).toBe(416);
    expect(past.res.headers.get("content-range")).toBe("bytes */10000");
    expect(JSON.parse(new TextDecoder().decode(past.bytes)).code).toBe("range_not_satisfiable");

    const removed = await call(`/api/v1/files/${file.id}`, { method: "DELETE", token: t.adminKey });
    expect(removed.status).toBe(204);
    expect((await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey)).res.status).toBe(404);
    expect((await call(`/api/v1/files/${file.id}`, { method: "DELETE", token: t.adminKey })).status).toBe(404);
    expect(
      await eventually(
        () => listIds(t.adminKey),
        (ids) => ids.length === 0,
      ),
    ).toEqual([]);
  });

  it("signs a download URL that works without a credential, ranges included, until the file is deleted", async () => {
    const t = await newTenant();
    const bytes = bytesOf(3_000, 3);
    const file = await uploaded(t.adminKey, bytes, "photo.png", "image/png");
    const signed = await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: { expires_in: 600 } });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    expect(signed.headers.get("cache-control")).toBe("no-store");
    const url = signed.body.url as string;
    expect(url).toMatch(new RegExp(`/api/v1/files/${file.id}/download\\?tenant=${t.id}&exp=\\d+&kv=1&sig=`));
    const expiresAt = Date.parse(signed.body.expires_at as string);
    expect(expiresAt - Date.now()).toBeGreaterThan(590_000);
    // exp is whole seconds, rounded up: at least the 600 s asked for, less than one more.
    expect(expiresAt - Date.now()).toBeLessThan(601_000);

    const whole = await fetchBytes(url);
    expect(whole.res.status).toBe(200);
    expect(whole.bytes).toEqual(bytes);
    expect(whole.res.headers.get("content-type")).toBe("image/png");
    const part = await fetchBytes(url, undefined, { range: "bytes=0-9" });
    expect(part.res.status).toBe(206);
    expect(part.bytes).toEqual(bytes.slice(0, 10));

    // Without a body the URL lives 15 minutes.
    const dflt = await call(`/api/v1/files/${file.id}/url`, { method: "POST", token: t.adminKey });
    expect(dflt.status).toBe(200);
    expect(Date.parse(dflt.body.expires_at as string) - Date.now()).toBeGreaterThan(880_000);

    expect((await call(`/api/v1/files/${file.id}`, { method: "DELETE", token: t.adminKey })).status).toBe(204);
    expect((await fetchBytes(url)).res.status).toBe(404);
  });

  it("answers 304 without a body when If-None-Match names the file's ETag, and the bytes otherwise", async () => {
    const t = await newTenant();
    const bytes = bytesOf(3_000);
    const file = await uploaded(t.adminKey, bytes);
    const whole = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey);
    const etag = whole.res.headers.get("etag") ?? "";
    expect(etag).toMatch(/^".+"$/);

    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const same = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey, { "if-none-match": ifNoneMatch });
      expect(same.res.status, ifNoneMatch).toBe(304);
      expect(same.bytes).toHaveLength(0);
      expect(same.res.headers.get("etag")).toBe(etag);
      // RFC 9110 15.4.5: the Cache-Control the 200 would send, no-transform included.
      expect(same.res.headers.get("cache-control"), ifNoneMatch).toBe(whole.res.headers.get("cache-control"));
    }
    const stale = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey, { "if-none-match": '"not-it"' });
    expect(stale.res.status).toBe(200);
    expect(stale.bytes).toEqual(bytes);
    // With a Range too: a current copy still answers 304; a stale one gets the range.
    const ranged = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey, {
      "if-none-match": '"not-it"',
      range: "bytes=0-9",
    });
    expect(ranged.res.status).toBe(206);
    expect(ranged.bytes).toEqual(bytes.slice(0, 10));
    // The signed URL honours it the same way; another tenant's id is still 404, not 304.
    const url = await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: {} });
    expect(url.status, JSON.stringify(url.body)).toBe(200);
    const signed = await fetchBytes(String(url.body.url), undefined, { "if-none-match": etag });
    expect(signed.res.status).toBe(304);
    const other = await newTenant();
    const foreign = await fetchBytes(`/api/v1/files/${file.id}`, other.adminKey, { "if-none-match": "*" });
    expect(foreign.res.status).toBe(404);
  });

  it("accounts every byte against the quota, and frees it on delete", async () => {
    const t = await newTenant();
    const a = await uploaded(t.adminKey, bytesOf(1_000));
    await uploaded(t.adminKey, bytesOf(500));
    const usage = await call("/api/v1/admin/files/quota", { token: t.adminKey });
    expect(usage.status).toBe(200);
    expect(usage.body).toEqual({ used_bytes: 1_500, files: 2, quota_bytes: 1024 ** 3, tenant_quota_bytes: null });
    await call(`/api/v1/files/${a.id}`, { method: "DELETE", token: t.adminKey });
    const after = await call("/api/v1/admin/files/quota", { token: t.adminKey });
    expect(after.body).toMatchObject({ used_bytes: 500, files: 1 });
  });

  it("takes an empty file, and a file whose Content-Digest matches", async () => {
    const t = await newTenant();
    const empty = await uploaded(t.adminKey, new Uint8Array(0), "empty.txt");
    expect(empty).toMatchObject({ size: 0, sha256: await sha256Hex(new Uint8Array(0)) });
    expect((await fetchBytes(`/api/v1/files/${empty.id}`, t.adminKey)).bytes.length).toBe(0);

    const bytes = bytesOf(2_048);
    const digest = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))));
    const res = await upload(t.adminKey, bytes, { headers: { "content-digest": `sha-256=:${digest}:` } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    // No name: the id, with its type's extension (a name without one is saved as whatever its bytes look like).
    expect(res.body.name).toBe(`${res.body.id}.txt`);
  });

  for (const field of ["content-digest", "repr-digest"]) {
    it(`replays an upload repeated with its Idempotency-Key and ${field}, storing it once`, async () => {
      const t = await newTenant();
      const bytes = bytesOf(4_096, 11);
      const digest = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))));
      const headers = { "idempotency-key": "upload-1", [field]: `sha-256=:${digest}:` };
      const first = await upload(t.adminKey, bytes, { name: "a.txt", headers });
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      const again = await upload(t.adminKey, bytes, { name: "a.txt", headers });
      expect(again.status).toBe(201);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      expect(again.body.id).toBe(first.body.id);
      expect((await call("/api/v1/admin/files/quota", { token: t.adminKey })).body).toMatchObject({ files: 1 });
    });
  }
});
