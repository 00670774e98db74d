// If-None-Match on reads, as RFC 9110 (13.1.2, 15.4.5) has it for GET and HEAD: a client
// revalidating its copy of a versioned resource gets 304 with no body when the tag it holds is
// current. The kernel answers it for every route (kernel/http/not-modified.ts) from the 200 the
// route gave, so only a caller the 200 would have served ever gets the 304.
import { describe, expect, it } from "vitest";
import { call, newTenant, newUser } from "../identity/helpers";
import { servedGets } from "./served-gets";
import { versionedResources } from "./versioned-resources";

// What a 304 keeps of its 200 (15.4.5): every field but those about the body it has not got.
const BODY_FIELDS = new Set(["content-type", "content-length", "content-encoding"]);
const kept = (h: Headers) =>
  Object.fromEntries(
    [...h.entries()].filter(
      ([name]) => !BODY_FIELDS.has(name) && name !== "x-request-id" && !name.startsWith("ratelimit"),
    ),
  );

describe("If-None-Match on reads (RFC 9110 13.1.2)", () => {
  it("answers 304 with no body when a tag names the current version, weakly compared, or `*`", async () => {
    for (const r of await versionedResources()) {
      const full = await r.read({});
      expect(full.headers.get("etag"), r.name).toBe('"1"');
      for (const tags of ['"1"', 'W/"1"', '"7", "1"', "*", "1"]) {
        for (const method of ["GET", "HEAD"]) {
          const res = await r.read({ "if-none-match": tags }, method);
          expect({ status: res.status, body: res.body }, `${r.name} ${method} ${tags}`).toEqual({
            status: 304,
            body: {},
          });
          expect(res.headers.get("content-type"), r.name).toBeNull();
          // The fields a cache updates its copy with, and the house's own, as the 200 had them.
          expect(kept(res.headers), `${r.name} ${tags}`).toEqual(kept(full.headers));
          expect(res.headers.get("x-request-id"), r.name).toMatch(/./);
        }
      }
    }
  });

  it("answers the full 200 to a tag that is not current, and ignores one that is not entity-tags", async () => {
    for (const r of await versionedResources()) {
      for (const tags of ['"2"', '"abc"', "abc", '"1', '*, "1"']) {
        const res = await r.read({ "if-none-match": tags });
        expect({ status: res.status, etag: res.headers.get("etag") }, `${r.name} ${tags}`).toEqual({
          status: 200,
          etag: '"1"',
        });
        expect(res.body.version, `${r.name} ${tags}`).toBe(1);
      }
      expect((await r.write({}, 2)).status, r.name).toBe(200);
      const after = await r.read({ "if-none-match": '"1"' });
      expect({ status: after.status, etag: after.headers.get("etag") }, r.name).toEqual({ status: 200, etag: '"2"' });
    }
  });

  it("never answers 304 to a caller the 200 would not serve", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const hook = await call("/api/v1/admin/webhooks", {
      token: a.adminKey,
      body: { url: "https://hooks.example.com/cond-get", events: ["blog.post.*"] },
    });
    expect(hook.status).toBe(201);
    const path = `/api/v1/admin/webhooks/${hook.body.id}`;
    const tags = { "if-none-match": "*" };
    expect((await call(path, { token: a.adminKey, headers: tags })).status).toBe(304);
    // Another tenant's credential, no credential, a member without the permission: as without the tag.
    const other = await call(path, { token: b.adminKey, headers: tags });
    expect({ status: other.status, code: other.body.code }).toEqual({ status: 404, code: "not_found" });
    const anonymous = await call(path, { tenant: a.slug, headers: tags });
    expect({ status: anonymous.status, code: anonymous.body.code }).toEqual({ status: 401, code: "unauthenticated" });
    const member = await newUser(a.slug);
    const refused = await call(path, { token: member.access_token as string, headers: tags });
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 403, code: "forbidden" });
  });

  it("keeps CORS on the 304, so a page's revalidation is readable", async () => {
    const t = await newTenant();
    const origin = "https://app.example.com";
    const set = await call("/api/v1/admin/settings", {
      method: "PATCH",
      token: t.adminKey,
      body: { cors_origins: [origin] },
    });
    expect(set.status).toBe(200);
    const etag = String(set.headers.get("etag"));
    const res = await call("/api/v1/admin/settings", { token: t.adminKey, headers: { origin, "if-none-match": etag } });
    expect(res.status).toBe(304);
    expect(res.headers.get("access-control-allow-origin")).toBe(origin);
    expect(res.headers.get("access-control-expose-headers")).toContain("ETag");
    expect(res.headers.get("vary")).toContain("Origin");
  });
});

describe("the contract of conditional reads", () => {
  it("declares If-None-Match and the 304 on every GET whose 200 sends an ETag, and only there", async () => {
    const { gets, tagged: versioned } = await servedGets();
    expect(versioned.map(([path]) => path)).toEqual(
      expect.arrayContaining(["/api/v1/blog/posts/{id}", "/api/v1/admin/settings", "/api/v1/admin/sso"]),
    );
    for (const [path, get] of gets) {
      const sendsEtag = versioned.some(([p]) => p === path);
      expect("304" in get.responses, path).toBe(sendsEtag);
      expect(get.parameters?.some((p) => p.name.toLowerCase() === "if-none-match") ?? false, path).toBe(sendsEtag);
    }
  });
});
