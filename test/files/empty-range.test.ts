import { describe, expect, it } from "vitest";
import { call, newTenant } from "../identity/helpers";
import { fetchBytes, uploaded } from "./helpers";

// RFC 9110 §14.1.2: on a zero-length representation a suffix range with a non-zero length is the
// only satisfiable one, and a suffix longer than the representation means all of it. A 206 cannot
// describe zero bytes (Content-Range would need a last byte), so the whole, empty, file is served
// with 200, as a server that ignores Range may (§14.2). It answered 416 range_not_satisfiable.
describe("files: a range of an empty file", () => {
  it("serves bytes=-n whole with 200 and no Content-Range; bytes=0- and bytes=-0 stay 416", async () => {
    const t = await newTenant("fe");
    const file = await uploaded(t.adminKey, new Uint8Array(0), "empty.txt");
    const signed = await call(`/api/v1/files/${file.id}/url`, { token: t.adminKey, body: { expires_in: 600 } });
    expect(signed.status).toBe(200);

    for (const [url, token] of [
      [`/api/v1/files/${file.id}`, t.adminKey],
      [signed.body.url as string, undefined],
    ] as const) {
      const suffix = await fetchBytes(url, token, { range: "bytes=-5" });
      expect(suffix.res.status, url).toBe(200);
      expect(suffix.bytes).toHaveLength(0);
      expect(suffix.res.headers.get("content-length")).toBe("0");
      expect(suffix.res.headers.get("content-range")).toBeNull();

      // No byte starts at 0 of nothing, and a zero-length suffix names none.
      for (const range of ["bytes=0-", "bytes=-0"]) {
        const none = await fetchBytes(url, token, { range });
        expect(none.res.status, range).toBe(416);
        expect(none.res.headers.get("content-range")).toBe("bytes */0");
      }
    }
  });
});
