// A 415 says what the route does accept (RFC 9110 §15.5.16): Accept-Post on a POST,
// Accept-Patch on a PATCH (RFC 5789 §3.1), so a client can correct its Content-Type.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ALLOWED_TYPES } from "../../src/modules/files/policy";
import { upload } from "../files/helpers";
import { expectProblem } from "../helpers";
import { newTenant, newUser, ORIGIN } from "../identity/helpers";

const send = (method: string, path: string, token: string, type: string) =>
  SELF.fetch(`${ORIGIN}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": type },
    body: "title=x",
  });

describe("415 names the media types accepted", () => {
  it("a POST to a JSON route: Accept-Post: application/json", async () => {
    const t = await newTenant("accept");
    const res = await send("POST", "/api/v1/blog/posts", t.adminKey, "text/plain");
    expect(res.headers.get("accept-post")).toBe("application/json");
    expect(res.headers.get("accept-patch")).toBeNull();
    await expectProblem(res, 415, "unsupported_media_type");
  });

  it("a PATCH to a JSON route: Accept-Patch: application/json", async () => {
    const t = await newTenant("accept");
    const u = await newUser(t.slug);
    const res = await send("PATCH", `/api/v1/users/${u.id}`, u.access_token, "application/x-www-form-urlencoded");
    expect(res.headers.get("accept-patch")).toBe("application/json");
    expect(res.headers.get("accept-post")).toBeNull();
    await expectProblem(res, 415, "unsupported_media_type");
  });

  it("a file upload of a type off the allow-list: Accept-Post lists the allowed types", async () => {
    const t = await newTenant("accept");
    const res = await upload(t.adminKey, new Uint8Array(10), { type: "text/html" });
    expect(res.status).toBe(415);
    expect(res.headers.get("accept-post")).toBe(ALLOWED_TYPES.join(", "));
  });
});
