import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/generated/migrations";
import { manualClock } from "../../src/kernel/clock";
import { modules } from "../../src/modules";
import { expectProblem, testApp } from "../helpers";
import { call, newTenant, ORIGIN } from "../identity/helpers";
import { bytesOf, fetchBytes, upload, uploaded } from "./helpers";

const usageOf = async (token: string) => (await call("/api/v1/admin/files/quota", { token })).body;

describe("files (errors)", () => {
  it("refuses a media type off the allow-list with 415, and stores nothing", async () => {
    const t = await newTenant();
    for (const type of ["text/html", "image/svg+xml", "application/octet-stream"]) {
      const res = await upload(t.adminKey, bytesOf(10), { type });
      expect({ type, status: res.status, code: res.body.code }).toEqual({
        type,
        status: 415,
        code: "unsupported_media_type",
      });
    }
    expect(await usageOf(t.adminKey)).toMatchObject({ used_bytes: 0, files: 0 });
  });

  it("refuses a file over FILES_MAX_BYTES with 413 payload_too_large before reading it", async () => {
    const t = await newTenant();
    const { fetch } = testApp(modules, { FILES_MAX_BYTES: "1024" });
    const post = (n: number) =>
      fetch("/api/v1/files", {
        method: "POST",
        headers: {
          authorization: `Bearer ${t.adminKey}`,
          "content-type": "application/pdf",
          "content-length": String(n),
        },
        body: bytesOf(n),
      });
    await expectProblem(await post(1025), 413, "payload_too_large");
    expect((await post(1024)).status).toBe(201);
    // The kernel's 1 MiB MAX_BODY_BYTES does not apply to uploads: 2 MiB passes the default limit.
    expect((await upload(t.adminKey, bytesOf(2 * 1024 * 1024), { type: "application/zip" })).status).toBe(201);
  });

  it("names a bad FILES_* variable as config_invalid on every route, as the kernel's own variables are", async () => {
    const t = await newTenant();
    const { fetch } = testApp(modules, { FILES_MAX_BYTES: "50MB", FILES_QUOTA_BYTES: "" });
    const headers = { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" };
    for (const res of [
      await fetch("/healthz"),
      await fetch("/api/v1/me", { headers }),
      await fetch("/api/v1/admin/files/quota", { headers }),
      await fetch("/api/v1/admin/files/quota", { method: "PUT", headers, body: JSON.stringify({ quota_bytes: 10 }) }),
    ]) {
      const problem = await expectProblem(res, 500, "config_invalid");
      // An empty FILES_QUOTA_BYTES is unset (its default), not 0 bytes.
      expect(problem.detail).toBe("the server's configuration is invalid: FILES_MAX_BYTES");
    }
  });

  it("refuses an upload past the quota with 413 quota_exceeded, naming the usage", async () => {
    const t = await newTenant();
    const set = await call("/api/v1/admin/files/quota", {
      method: "PUT",
      token: t.adminKey,
      body: { quota_bytes: 1000 },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ quota_bytes: 1000, tenant_quota_bytes: 1000 });
    await uploaded(t.adminKey, bytesOf(600));
    const refused = await upload(t.adminKey, bytesOf(401));
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({ code: "quota_exceeded", quota_bytes: 1000, used_bytes: 600 });
    expect(refused.body.detail).toContain("600 of 1000");
    expect((await upload(t.adminKey, bytesOf(400))).status).toBe(201);
    expect(await usageOf(t.adminKey)).toMatchObject({ used_bytes: 1000, files: 2 });

    const above = await call("/api/v1/admin/files/quota", {
      method: "PUT",
      token: t.adminKey,
      body: { quota_bytes: 2 * 1024 ** 3 },
    });
    expect(above.status).toBe(400);
    expect(above.body.errors).toEqual([{ path: "body.quota_bytes", message: `at most ${1024 ** 3}` }]);
    const reset = await call("/api/v1/admin/files/quota", {
      method: "PUT",
      token: t.adminKey,
      body: { quota_bytes: null },
    });
    expect(reset.body).toMatchObject({ quota_bytes: 1024 ** 3, tenant_quota_bytes: null });
  });

  it("refuses a body whose SHA-256 is not its Content-Digest, and keeps nothing of it", async () => {
    const t = await newTenant();
    const wrong = btoa(String.fromCharCode(...new Uint8Array(32)));
    const res = await upload(t.adminKey, bytesOf(100), { headers: { "content-digest": `sha-256=:${wrong}:` } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("digest_mismatch");
    expect(await usageOf(t.adminKey)).toMatchObject({ used_bytes: 0, files: 0 });
    const malformed = await upload(t.adminKey, bytesOf(100), { headers: { "content-digest": "sha-256=abc" } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe("validation_failed");
  });

  it("needs Content-Digest with an Idempotency-Key, and refuses the key with other bytes", async () => {
    const t = await newTenant();
    const noDigest = await upload(t.adminKey, bytesOf(10), { headers: { "idempotency-key": "k1" } });
    expect(noDigest.status).toBe(400);
    expect(noDigest.body.errors).toEqual([
      { path: "header.content-digest", message: "required with Idempotency-Key: sha-256=:<base64>:" },
    ]);
    const digestOf = async (b: Uint8Array) =>
      `sha-256=:${btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", b))))}:`;
    const a = bytesOf(10, 1);
    const b = bytesOf(10, 2);
    const first = await upload(t.adminKey, a, {
      headers: { "idempotency-key": "k2", "content-digest": await digestOf(a) },
    });
    expect(first.status).toBe(201);
    const other = await upload(t.adminKey, b, {
      headers: { "idempotency-key": "k2", "content-digest": await digestOf(b) },
    });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("idempotency_key_reused");
  });

  it("needs a Content-Length: a chunked upload is 411 length_required", async () => {
    const t = await newTenant();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytesOf(10));
        controller.close();
      },
    });
    const res = await SELF.fetch(`${ORIGIN}/api/v1/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "text/plain" },
      body,
    });
    await expectProblem(res, 411, "length_required");
  });

  it("refuses an expired signed URL with 403 url_expired, and an altered one with 403 url_signature_invalid", async () => {
    const t = await newTenant();
    const file = await uploaded(t.adminKey, bytesOf(64));
    const fresh = (await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: {} })).body.url as string;
    expect((await fetchBytes(fresh)).res.status).toBe(200);
    const url = new URL(fresh);
    const altered = (change: (q: URLSearchParams) => void) => {
      const q = new URLSearchParams(url.search);
      change(q);
      return `${ORIGIN}${url.pathname}?${q}`;
    };
    const sig = url.searchParams.get("sig") ?? "";
    const flipped = `${sig.slice(0, 5)}${sig[5] === "A" ? "B" : "A"}${sig.slice(6)}`;
    for (const tampered of [
      altered((q) => q.set("sig", flipped)),
      altered((q) => q.set("exp", String(Number(q.get("exp")) + 3600))),
      altered((q) => q.set("kv", "2")),
      altered((q) => q.set("sig", "not-a-signature")),
    ]) {
      await expectProblem((await fetchBytes(tampered)).res, 403, "url_signature_invalid");
    }
    const noTenant = await fetchBytes(altered((q) => q.delete("tenant")));
    await expectProblem(noTenant.res, 400, "tenant_required");
    // Signed for ten minutes, presented an hour later (last: the rate limiter remembers that hour).
    const signed = await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: { expires_in: 600 } });
    const expired = signed.body as { url: string };
    const later = testApp(modules, {}, MIGRATIONS, manualClock(new Date(Date.now() + 3_600_000)));
    const { pathname, search } = new URL(expired.url);
    await expectProblem(await later.fetch(`${pathname}${search}`), 403, "url_expired");
  });

  it("answers 404 for ids that name no file, whatever their shape", async () => {
    const t = await newTenant();
    for (const id of ["01ARZ3NDEKTSV4RRFFQ69G5FAV", "nope", "..%2F..%2Fx"]) {
      expect((await fetchBytes(`/api/v1/files/${id}`, t.adminKey)).res.status).toBe(404);
      expect((await call(`/api/v1/files/${id}/url`, { token: t.adminKey, body: {} })).status).toBe(404);
      expect((await call(`/api/v1/files/${id}`, { method: "DELETE", token: t.adminKey })).status).toBe(404);
    }
  });
});
