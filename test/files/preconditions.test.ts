import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expectProblem } from "../helpers";
import { call, newTenant, ORIGIN } from "../identity/helpers";
import { bytesOf, fetchBytes, uploaded } from "./helpers";

const head = (url: string, token: string | undefined, headers: Record<string, string>) =>
  SELF.fetch(url.startsWith("http") ? url : `${ORIGIN}${url}`, {
    method: "HEAD",
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });

const PAST = "Sun, 06 Nov 1994 08:49:37 GMT";
const FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT";

// RFC 9110 §13.1.1 and §13.1.4: an origin server MUST NOT perform the method when If-Match or
// If-Unmodified-Since is false, GET and HEAD included: 412. Both were ignored, so a client that
// resumed a download "only if it is still that file" got another file's bytes without a word.
describe("files: If-Match and If-Unmodified-Since on a download", () => {
  it("answers 412 when false and serves when true, on GET, HEAD and a signed URL", async () => {
    const t = await newTenant("pc");
    const bytes = bytesOf(1000, 5);
    const file = await uploaded(t.adminKey, bytes, "data.txt");
    const signed = await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: { expires_in: 600 } });
    const first = await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey);
    const etag = first.res.headers.get("etag") ?? "";
    const lastModified = first.res.headers.get("last-modified") ?? "";
    expect(lastModified).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);

    for (const [url, token] of [
      [`/api/v1/files/${file.id}`, t.adminKey],
      [signed.body.url as string, undefined],
    ] as const) {
      for (const cond of <Record<string, string>[]>[
        { "if-match": '"not-this-one"' },
        { "if-match": `W/${etag}` }, // If-Match compares strongly: a weak tag never matches
        { "if-unmodified-since": PAST },
        { "if-match": `"x", W/${etag}`, "if-unmodified-since": FUTURE },
      ]) {
        const got = await fetchBytes(url, token, cond);
        const problem = await expectProblem(got.res, 412, "version_conflict");
        expect(problem.detail, JSON.stringify(cond)).toMatch(/If-Match|If-Unmodified-Since/);
        expect(got.res.headers.get("etag")).toBe(etag);
        const h = await head(url, token, cond);
        expect(h.status, `HEAD ${JSON.stringify(cond)}`).toBe(412);
      }
      for (const cond of <Record<string, string>[]>[
        { "if-match": etag },
        { "if-match": "*" },
        { "if-match": `"x", ${etag}` },
        { "if-unmodified-since": FUTURE },
        { "if-unmodified-since": lastModified },
        // If-Match decides alone when both are sent (RFC 9110 §13.2.2).
        { "if-match": etag, "if-unmodified-since": PAST },
        // Not an HTTP-date: ignored, as the RFC says.
        { "if-unmodified-since": "yesterday" },
      ]) {
        const got = await fetchBytes(url, token, cond);
        expect(got.res.status, JSON.stringify(cond)).toBe(200);
        expect(got.bytes).toEqual(bytes);
        expect((await head(url, token, cond)).status, `HEAD ${JSON.stringify(cond)}`).toBe(200);
      }
      // With a range, a true condition still gives the range; a false one 412, not the range.
      const part = await fetchBytes(url, token, { "if-match": etag, range: "bytes=10-19" });
      expect(part.res.status).toBe(206);
      expect(part.bytes).toEqual(bytes.slice(10, 20));
      expect((await fetchBytes(url, token, { "if-match": '"x"', range: "bytes=10-19" })).res.status).toBe(412);
    }

    // A file that is gone is 404 whatever the conditions (RFC 9110 §13.2.1).
    await call(`/api/v1/files/${file.id}`, { method: "DELETE", token: t.adminKey });
    expect((await fetchBytes(`/api/v1/files/${file.id}`, t.adminKey, { "if-match": "*" })).res.status).toBe(404);
  });

  it("answers If-Modified-Since with 304 unless If-None-Match is sent, and takes If-Range as a date", async () => {
    const t = await newTenant("pc");
    const bytes = bytesOf(100, 9);
    const file = await uploaded(t.adminKey, bytes, "data.txt");
    const url = `/api/v1/files/${file.id}`;
    const first = await fetchBytes(url, t.adminKey);
    const etag = first.res.headers.get("etag") ?? "";
    const lastModified = first.res.headers.get("last-modified") ?? "";

    const notModified = await fetchBytes(url, t.adminKey, { "if-modified-since": lastModified });
    expect(notModified.res.status).toBe(304);
    expect(notModified.res.headers.get("etag")).toBe(etag);
    expect(notModified.res.headers.get("last-modified")).toBe(lastModified);
    expect((await fetchBytes(url, t.adminKey, { "if-modified-since": PAST })).res.status).toBe(200);
    expect((await head(url, t.adminKey, { "if-modified-since": lastModified })).status).toBe(304);
    // If-None-Match decides alone: a tag that does not match serves the file whatever the date.
    expect(
      (await fetchBytes(url, t.adminKey, { "if-none-match": '"x"', "if-modified-since": FUTURE })).res.status,
    ).toBe(200);

    // If-Range with the Last-Modified date is as good as the ETag; another date asks for the whole file.
    const ranged = await fetchBytes(url, t.adminKey, { range: "bytes=0-9", "if-range": lastModified });
    expect(ranged.res.status).toBe(206);
    expect(ranged.bytes).toEqual(bytes.slice(0, 10));
    const stale = await fetchBytes(url, t.adminKey, { range: "bytes=0-9", "if-range": PAST });
    expect(stale.res.status).toBe(200);
    expect(stale.bytes).toEqual(bytes);
  });

  it("HEAD ignores Range (RFC 9110 §14.2: ranges are defined for GET only): 200 with the whole length", async () => {
    const t = await newTenant("pc");
    const file = await uploaded(t.adminKey, bytesOf(1000, 2), "data.txt");
    const url = `/api/v1/files/${file.id}`;
    for (const range of ["bytes=0-9", "bytes=5000-"]) {
      const res = await head(url, t.adminKey, { range });
      expect(res.status, range).toBe(200);
      expect(res.headers.get("content-length")).toBe("1000");
      expect(res.headers.get("content-range")).toBeNull();
    }
  });
});
