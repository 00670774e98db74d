import { describe, expect, it } from "vitest";
import { expectProblem } from "../helpers";
import { call, newTenant } from "../identity/helpers";
import { bytesOf, fetchBytes, uploaded } from "./helpers";

// A file sends an ETag, so a DELETE may be made conditional on it (RFC 9110 §13.1.1): a client
// removing "the file I saw" under an id it kept. It answered 400 "this resource has no
// versions (it sends no ETag)", which the download's ETag contradicts.
describe("files: a conditional DELETE", () => {
  it("deletes when If-Match names the file, answers 412 and keeps it when not", async () => {
    const t = await newTenant("dp");
    const file = await uploaded(t.adminKey, bytesOf(10), "x.txt");
    const url = `/api/v1/files/${file.id}`;
    const { res } = await fetchBytes(url, t.adminKey);
    const etag = res.headers.get("etag") ?? "";

    for (const headers of <Record<string, string>[]>[
      { "if-match": '"other"' },
      { "if-match": `W/${etag}` },
      { "if-unmodified-since": "Sun, 06 Nov 1994 08:49:37 GMT" },
    ]) {
      const refused = await call(url, { method: "DELETE", token: t.adminKey, headers });
      expect(refused.status, JSON.stringify(headers)).toBe(412);
      expect(refused.body.code).toBe("version_conflict");
      expect(refused.headers.get("etag")).toBe(etag);
    }
    // Not entity-tags: 400 naming the header, as every If-Match of the API (docs/http.md), on the download too.
    for (const value of ["soon", '"unterminated', '*, "x"']) {
      const bad = await call(url, { method: "DELETE", token: t.adminKey, headers: { "if-match": value } });
      expect(bad.status, value).toBe(400);
      expect(bad.body.errors).toEqual([expect.objectContaining({ path: "header.if-match" })]);
      const read = await fetchBytes(url, t.adminKey, { "if-match": value });
      expect((await expectProblem(read.res, 400, "validation_failed")).errors?.[0]?.path).toBe("header.if-match");
    }
    expect((await fetchBytes(url, t.adminKey)).res.status).toBe(200);

    const removed = await call(url, { method: "DELETE", token: t.adminKey, headers: { "if-match": etag } });
    expect(removed.status).toBe(204);
    expect((await fetchBytes(url, t.adminKey)).res.status).toBe(404);
    // Gone: 404 whatever the condition.
    const again = await fetchBytes(url, t.adminKey);
    await expectProblem(again.res, 404, "not_found");
    expect((await call(url, { method: "DELETE", token: t.adminKey, headers: { "if-match": "*" } })).status).toBe(404);
  });

  it("answers 412 and keeps the file when If-None-Match names it (RFC 9110 §13.1.2), deletes when not", async () => {
    // It ignored If-None-Match: "delete unless it is the copy I have" deleted that very copy.
    const t = await newTenant("dn");
    const file = await uploaded(t.adminKey, bytesOf(10), "y.txt");
    const url = `/api/v1/files/${file.id}`;
    const etag = (await fetchBytes(url, t.adminKey)).res.headers.get("etag") ?? "";
    for (const value of [etag, `W/${etag}`, "*", `"other", ${etag}`]) {
      const refused = await call(url, { method: "DELETE", token: t.adminKey, headers: { "if-none-match": value } });
      expect(refused.status, value).toBe(412);
      expect(refused.body.code).toBe("version_conflict");
      expect(refused.body.detail).toContain("If-None-Match");
      expect(refused.headers.get("etag")).toBe(etag);
    }
    expect((await fetchBytes(url, t.adminKey)).res.status).toBe(200);
    // If-Modified-Since is for GET and HEAD only: a DELETE ignores it (§13.1.3).
    const removed = await call(url, {
      method: "DELETE",
      token: t.adminKey,
      headers: { "if-none-match": '"other"', "if-modified-since": "Sun, 06 Nov 2094 08:49:37 GMT" },
    });
    expect(removed.status).toBe(204);
    expect((await fetchBytes(url, t.adminKey)).res.status).toBe(404);
  });
});
