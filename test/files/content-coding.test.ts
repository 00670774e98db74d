import { describe, expect, it } from "vitest";
import { call, newTenant } from "../identity/helpers";
import { bytesOf, sha256Hex, upload } from "./helpers";

const usageOf = async (token: string) => (await call("/api/v1/admin/files/quota", { token })).body;

// A client that compresses its upload (Content-Encoding: gzip) sends the coded bytes; the Worker
// does not decode a request body, so they were stored as the file, under the declared type, and
// served back without the coding: the user downloaded gzip data named report.txt. A Repr-Digest
// (of the decoded bytes) was checked against the coded ones and refused a correct upload.
describe("files: an upload's content coding", () => {
  it("refuses a coded body with 415 and Accept-Encoding: identity, keeping nothing", async () => {
    const t = await newTenant("fe");
    for (const coding of ["gzip", "br", "deflate", "identity, gzip", "GZIP"]) {
      const res = await upload(t.adminKey, bytesOf(32), { headers: { "content-encoding": coding } });
      expect({ coding, status: res.status, code: res.body.code }).toEqual({
        coding,
        status: 415,
        code: "unsupported_media_type",
      });
      expect(res.headers.get("accept-encoding")).toBe("identity");
    }
    expect(await usageOf(t.adminKey)).toMatchObject({ used_bytes: 0, files: 0 });
  });

  it("takes a body whose coding is identity, or none, as it is", async () => {
    const t = await newTenant("ff");
    const bytes = bytesOf(32);
    for (const coding of ["identity", "Identity", ""]) {
      const res = await upload(t.adminKey, bytes, { headers: { "content-encoding": coding } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.sha256).toBe(await sha256Hex(bytes));
    }
  });
});
