// If-Match as RFC 9110 (13.1.1) reads it, on every kind of versioned resource
// (versioned-resources.ts). A weak tag never matches (strong comparison),
// `*` matches any current version, and a list matches when any member does.
import { describe, expect, it } from "vitest";
import { call, newTenant, newUser } from "../identity/helpers";
import { versionedResources } from "./versioned-resources";

describe("If-Match (RFC 9110)", () => {
  it("never matches a weak tag, matches * and any member of a list, and refuses what is not an entity-tag", async () => {
    for (const r of await versionedResources()) {
      const outcome = async (ifMatch: string, n: number) => {
        const res = await r.write({ "if-match": ifMatch }, n);
        return `${res.status}${res.status >= 400 ? ` ${res.body.code}` : ""}`;
      };
      expect(await r.version(), r.name).toBe(1);
      // Strong comparison: W/"1" names the current version, weakly, so it does not match.
      expect(await outcome('W/"1"', 2), r.name).toBe("412 version_conflict");
      expect(await r.version(), r.name).toBe(1);
      // `*`: the resource exists, so the write proceeds.
      expect(await outcome("*", 3), r.name).toBe("200");
      expect(await r.version(), r.name).toBe(2);
      // A list matches when any member does; a weak member still never does.
      expect(await outcome('"7", "2"', 4), r.name).toBe("200");
      expect(await outcome('"9", W/"3"', 5), r.name).toBe("412 version_conflict");
      // A strong tag that names no version is a tag that does not match, not a malformed header.
      expect(await outcome('"abc"', 6), r.name).toBe("412 version_conflict");
      expect(await r.version(), r.name).toBe(3);
      // Not an entity-tag (nor the bare number plinth also takes): 400.
      for (const bad of ["abc", '"1', '*, "3"', ","]) {
        expect(await outcome(bad, 7), `${r.name}: ${bad}`).toBe("400 validation_failed");
      }
      expect(await outcome("3", 8), r.name).toBe("200");
    }
  });

  it("answers a 412 with the version the resource is at, on every kind, so a client that lost a race knows to what", async () => {
    for (const r of await versionedResources()) {
      expect((await r.write({ "if-match": "1" }, 2)).status, r.name).toBe(200);
      const stale = await r.write({ "if-match": '"1"' }, 3);
      expect({ status: stale.status, code: stale.body.code }, r.name).toEqual({
        status: 412,
        code: "version_conflict",
      });
      expect(stale.body.current_version, r.name).toBe(2);
      expect(await r.version(), r.name).toBe(2);
    }
  });

  it("`*` matches only a resource that exists: a PUT with it never creates, and an unknown id stays 404", async () => {
    const t = await newTenant();
    const sso = {
      issuer: "https://login.example.com",
      client_id: "plinth",
      client_secret: "a-secret-for-the-test",
      allowed_domains: ["example.com"],
      default_role: "member",
    };
    const put = (headers: Record<string, string>) =>
      call("/api/v1/admin/sso", { method: "PUT", token: t.adminKey, body: sso, headers });
    const none = await put({ "if-match": "*" });
    expect({ status: none.status, code: none.body.code }).toEqual({ status: 412, code: "version_conflict" });
    expect((await put({})).status).toBe(200);
    expect((await put({ "if-match": "*" })).status).toBe(200);
    expect((await put({ "if-match": 'W/"2"' })).status).toBe(412);
    expect((await put({ "if-match": '"1", "2"' })).status).toBe(200);

    for (const path of ["/api/v1/blog/posts/no-such-post", "/api/v1/admin/webhooks/no-such-hook"]) {
      for (const ifMatch of ["*", '"1"', 'W/"1"']) {
        const res = await call(path, {
          method: "PATCH",
          token: t.adminKey,
          headers: { "if-match": ifMatch },
          body: path.includes("blog") ? { title: "x" } : { description: "x" },
        });
        expect({ status: res.status, code: res.body.code }, `${path} ${ifMatch}`).toEqual({
          status: 404,
          code: "not_found",
        });
      }
    }
  });

  it("is refused (400) on a write to a resource without versions, rather than ignored: the write would not be conditional", async () => {
    const t = await newTenant();
    const user = await newUser(t.slug);
    const path = `/api/v1/users/${user.id}`;
    for (const ifMatch of ['"1"', "*"]) {
      const res = await call(path, {
        method: "PATCH",
        token: t.adminKey,
        headers: { "if-match": ifMatch },
        body: { name: "Grace" },
      });
      expect({ status: res.status, code: res.body.code }, ifMatch).toEqual({ status: 400, code: "validation_failed" });
      expect(String(res.body.detail)).toContain("cannot honour If-Match");
    }
    expect((await call(path, { token: t.adminKey })).body.name).not.toBe("Grace");
    // Who may write is still checked first; without If-Match the write goes through.
    expect(
      (await call(path, { method: "PATCH", headers: { "if-match": '"1"' }, body: { name: "Grace" } })).status,
    ).toBe(401);
    const plain = await call(path, { method: "PATCH", token: t.adminKey, body: { name: "Grace" } });
    expect({ status: plain.status, name: plain.body.name }).toEqual({ status: 200, name: "Grace" });
  });

  it("guards a webhook endpoint's DELETE as its PATCH: a stale version is a 412 and the endpoint stays", async () => {
    const t = await newTenant();
    const hook = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://hooks.example.com/if-match-delete", events: ["blog.post.*"] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const path = `/api/v1/admin/webhooks/${hook.body.id}`;
    expect((await call(path, { method: "PATCH", token: t.adminKey, body: { description: "v2" } })).status).toBe(200);
    const stale = await call(path, { method: "DELETE", token: t.adminKey, headers: { "if-match": '"1"' } });
    expect({ status: stale.status, code: stale.body.code, current: stale.body.current_version }).toEqual({
      status: 412,
      code: "version_conflict",
      current: 2,
    });
    expect((await call(path, { token: t.adminKey })).status).toBe(200);
    const gone = await call(path, { method: "DELETE", token: t.adminKey, headers: { "if-match": '"2"' } });
    expect({ status: gone.status, etag: gone.headers.get("etag") }).toEqual({ status: 204, etag: '"3"' });
    expect((await call(path, { token: t.adminKey })).status).toBe(404);
  });
});
