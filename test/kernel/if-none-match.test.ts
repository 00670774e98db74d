// If-None-Match on writes, as RFC 9110 (13.1.2) reads it for a state-changing method: a tag that
// names the current version (compared weakly), or `*` while the resource exists, is 412, and the
// write does not happen. Every versioned resource's writer compares it in the step that writes,
// as it compares If-Match (kernel/http/if-match.ts), so no route reads it on its own.
import { describe, expect, it } from "vitest";
import { call, newTenant, newUser } from "../identity/helpers";
import { type Answer, versionedResources } from "./versioned-resources";

const outcome = (res: Answer) => `${res.status}${res.status >= 400 ? ` ${res.body.code}` : ""}`;

describe("If-None-Match on writes (RFC 9110 13.1.2)", () => {
  it("refuses a write whose tag names the current version, weakly compared, or `*`; any other tag lets it through", async () => {
    for (const r of await versionedResources()) {
      const write = async (ifNoneMatch: string, n: number) =>
        outcome(await r.write({ "if-none-match": ifNoneMatch }, n));
      expect(await r.version(), r.name).toBe(1);
      expect(await write('"1"', 2), r.name).toBe("412 version_conflict");
      // Weak comparison (13.1.2): W/"1" names version 1 as much as "1" does.
      expect(await write('W/"1"', 3), r.name).toBe("412 version_conflict");
      expect(await write('"7", W/"1"', 4), r.name).toBe("412 version_conflict");
      // `*` is false for a resource that exists.
      expect(await write("*", 5), r.name).toBe("412 version_conflict");
      expect(await r.version(), r.name).toBe(1);
      // Tags that name another version, or no version at all, leave the write to proceed.
      expect(await write('"7", "8"', 6), r.name).toBe("200");
      expect(await write('"abc"', 7), r.name).toBe("200");
      expect(await r.version(), r.name).toBe(3);
      for (const bad of ["abc", '"1', '*, "3"', ","]) {
        expect(await write(bad, 8), `${r.name}: ${bad}`).toBe("400 validation_failed");
      }
      expect(await r.version(), r.name).toBe(3);
    }
  });

  it("answers its 412 in the house shape with the version the resource is at", async () => {
    for (const r of await versionedResources()) {
      const refused = await r.write({ "if-none-match": '"1"' }, 2);
      expect(refused.headers.get("content-type"), r.name).toContain("application/problem+json");
      expect(
        { status: refused.status, type: refused.body.type, current: refused.body.current_version },
        r.name,
      ).toEqual({ status: 412, type: "/problems/version_conflict", current: 1 });
      expect(String(refused.body.request_id), r.name).not.toBe("");
    }
  });

  it("holds with If-Match: the write proceeds only when both are true (13.2.2)", async () => {
    for (const r of await versionedResources()) {
      const both = (m: string, n: string, k: number) => r.write({ "if-match": m, "if-none-match": n }, k);
      expect(outcome(await both('"1"', '"1"', 2)), r.name).toBe("412 version_conflict");
      expect(outcome(await both('"2"', '"9"', 3)), r.name).toBe("412 version_conflict");
      expect(outcome(await both('"1"', '"9"', 4)), r.name).toBe("200");
      expect(await r.version(), r.name).toBe(2);
    }
  });

  it("`*` on the SSO provider's PUT creates it once and never overwrites it", async () => {
    const t = await newTenant();
    const sso = (clientId: string) => ({
      issuer: "https://login.example.com",
      client_id: clientId,
      client_secret: "a-secret-for-the-test",
      allowed_domains: ["example.com"],
      default_role: "member",
    });
    const put = (clientId: string) =>
      call("/api/v1/admin/sso", {
        method: "PUT",
        token: t.adminKey,
        body: sso(clientId),
        headers: { "if-none-match": "*" },
      });
    const created = await put("first");
    expect({ status: created.status, etag: created.headers.get("etag") }).toEqual({ status: 200, etag: '"1"' });
    const again = await put("second");
    expect({ status: again.status, code: again.body.code, current: again.body.current_version }).toEqual({
      status: 412,
      code: "version_conflict",
      current: 1,
    });
    const held = await call("/api/v1/admin/sso", { token: t.adminKey });
    expect(held.body.client_id).toBe("first");
  });

  it("guards a DELETE: a blog post or webhook endpoint named by its current tag stays", async () => {
    const t = await newTenant();
    const post = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "keep", content: "x" } });
    const hook = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "https://hooks.example.com/if-none-match", events: ["blog.post.*"] },
    });
    for (const path of [`/api/v1/blog/posts/${post.body.id}`, `/api/v1/admin/webhooks/${hook.body.id}`]) {
      for (const tag of ["*", '"1"']) {
        const res = await call(path, { method: "DELETE", token: t.adminKey, headers: { "if-none-match": tag } });
        expect(outcome(res), `${path} ${tag}`).toBe("412 version_conflict");
      }
      const strong = path.includes("/blog/") ? "?consistency=strong" : "";
      expect((await call(`${path}${strong}`, { token: t.adminKey })).status, path).toBe(200);
      const gone = await call(path, { method: "DELETE", token: t.adminKey, headers: { "if-none-match": '"5"' } });
      expect(gone.status, path).toBe(204);
    }
    // Gone: `*` holds of what is not there, and the id answers its 404 as without it; so does a
    // deleted post, whose stream keeps its events (its version counts the deletion).
    for (const path of [`/api/v1/blog/posts/${post.body.id}`, `/api/v1/admin/webhooks/${hook.body.id}`]) {
      const again = await call(path, { method: "DELETE", token: t.adminKey, headers: { "if-none-match": "*" } });
      expect(outcome(again), path).toBe("404 not_found");
    }
  });

  it("answers a deleted post 404 whatever If-Match or If-None-Match name, as without them", async () => {
    // Its version (2 after the deletion) made a stale If-Match, or If-None-Match naming it, a 412
    // with current_version: a precondition judged on a resource the client is told does not exist.
    const t = await newTenant();
    const post = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "Gone", content: "Soon" } });
    const path = `/api/v1/blog/posts/${post.body.id}`;
    expect((await call(path, { method: "DELETE", token: t.adminKey })).status).toBe(204);
    const tries: Record<string, string>[] = [
      {},
      { "if-match": '"1"' },
      { "if-match": '"2"' },
      { "if-none-match": '"2"' },
      { "if-none-match": "*" },
    ];
    for (const headers of tries) {
      const patch = await call(path, { method: "PATCH", token: t.adminKey, headers, body: { title: "Back" } });
      expect(outcome(patch), JSON.stringify(headers)).toBe("404 not_found");
      const del = await call(path, { method: "DELETE", token: t.adminKey, headers });
      expect(outcome(del), JSON.stringify(headers)).toBe("404 not_found");
    }
  });

  it("is refused (400) on a write to a resource without versions, as If-Match is: nothing would compare it", async () => {
    const t = await newTenant();
    const user = await newUser(t.slug);
    const path = `/api/v1/users/${user.id}`;
    for (const tag of ["*", '"1"']) {
      const res = await call(path, {
        method: "PATCH",
        token: t.adminKey,
        headers: { "if-none-match": tag },
        body: { name: "Grace" },
      });
      expect(outcome(res), tag).toBe("400 validation_failed");
      expect(res.body.errors, tag).toEqual([expect.objectContaining({ path: "header.if-none-match" })]);
    }
    expect((await call(path, { token: t.adminKey })).body.name).not.toBe("Grace");
  });

  it("leaves If-Unmodified-Since unweighed: these resources send no Last-Modified, their validator is the version", async () => {
    for (const r of await versionedResources()) {
      // A date long before the resource was made: honoured, it would be a 412.
      const res = await r.write({ "if-unmodified-since": "Sun, 06 Nov 1994 08:49:37 GMT" }, 2);
      expect({ status: res.status, lastModified: res.headers.get("last-modified") }, r.name).toEqual({
        status: 200,
        lastModified: null,
      });
    }
  });
});
