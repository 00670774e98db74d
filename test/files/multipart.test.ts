import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expectProblem } from "../helpers";
import { newTenant, ORIGIN } from "../identity/helpers";

// `curl -F file=@x.txt` and a browser's FormData send multipart/form-data, the usual way to upload a
// file elsewhere. The 415 listed the allowed types only, so the client could not tell the route
// takes the raw bytes, not a form; it now says so.
describe("files: a multipart upload", () => {
  it("is 415 with a detail that says to send the file's bytes as the body, with their own type", async () => {
    const t = await newTenant("mp");
    const form = new FormData();
    form.set("file", new Blob(["hello"], { type: "text/plain" }), "hello.txt");
    const res = await SELF.fetch(`${ORIGIN}/api/v1/files?name=hello.txt`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}` },
      body: form,
    });
    const problem = await expectProblem(res, 415, "unsupported_media_type");
    expect(problem.detail).toMatch(/not a multipart form/);
    expect(problem.detail).toMatch(/--data-binary/);
    expect(res.headers.get("accept-post")).toContain("text/plain");
  });
});
