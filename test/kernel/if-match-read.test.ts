// If-Match on reads, as RFC 9110 (13.1.1, 13.2.2) has it for GET and HEAD: a tag list that names
// no current representation (compared strongly) is false, and the read is not performed but
// answered 412; If-Match is weighed before If-None-Match. The kernel decides it for every route
// (kernel/http/not-modified.ts) from the 200 the route gave, so only a caller the 200 would have
// served ever learns anything from it.
import { describe, expect, it } from "vitest";
import { call, newTenant, newUser } from "../identity/helpers";
import { servedGets } from "./served-gets";
import { type Answer, versionedResources } from "./versioned-resources";

const outcome = (res: Answer) => `${res.status}${res.status >= 400 && res.body.code ? ` ${res.body.code}` : ""}`;

describe("If-Match on reads (RFC 9110 13.1.1)", () => {
  it("answers 412 to tags that name no current representation: another version, a weak tag, a tag of nothing", async () => {
    for (const r of await versionedResources()) {
      for (const tags of ['"2"', 'W/"1"', '"abc"', '"7", "8"', "2"]) {
        const res = await r.read({ "if-match": tags });
        expect(outcome(res), `${r.name} GET ${tags}`).toBe("412 version_conflict");
        expect(res.headers.get("content-type"), r.name).toContain("application/problem+json");
        // What the client needs to read again or give up, without a read: the tag and version that are current.
        expect({ etag: res.headers.get("etag"), current: res.body.current_version }, r.name).toEqual({
          etag: '"1"',
          current: 1,
        });
        expect(String(res.body.request_id), r.name).not.toBe("");
        const head = await r.read({ "if-match": tags }, "HEAD");
        expect({ status: head.status, body: head.body }, `${r.name} HEAD ${tags}`).toEqual({ status: 412, body: {} });
      }
    }
  });

  it("serves the read when a tag names the current version, strongly, or for `*`", async () => {
    for (const r of await versionedResources()) {
      for (const tags of ['"1"', "1", '"7", "1"', 'W/"1", "1"', "*"]) {
        for (const method of ["GET", "HEAD"]) {
          const res = await r.read({ "if-match": tags }, method);
          expect({ status: res.status, etag: res.headers.get("etag") }, `${r.name} ${method} ${tags}`).toEqual({
            status: 200,
            etag: '"1"',
          });
          if (method === "GET") expect(res.body.version, r.name).toBe(1);
        }
      }
      // A write moves the representation on: the tag the client held is no longer current.
      expect((await r.write({}, 2)).status, r.name).toBe(200);
      const stale = await r.read({ "if-match": '"1"' });
      expect({ outcome: outcome(stale), etag: stale.headers.get("etag"), current: stale.body.current_version }).toEqual(
        { outcome: "412 version_conflict", etag: '"2"', current: 2 },
      );
    }
  });

  it("weighs If-Match before If-None-Match (13.2.2)", async () => {
    for (const r of await versionedResources()) {
      const both = (m: string, n: string) => r.read({ "if-match": m, "if-none-match": n });
      // If-Match false: 412, whatever If-None-Match would have said.
      expect(outcome(await both('"2"', '"1"')), r.name).toBe("412 version_conflict");
      expect(outcome(await both('"2"', '"9"')), r.name).toBe("412 version_conflict");
      // If-Match true: If-None-Match decides between 304 and 200.
      expect(outcome(await both('"1"', '"1"')), r.name).toBe("304");
      expect(outcome(await both("*", "*")), r.name).toBe("304");
      expect(outcome(await both('"1"', '"9"')), r.name).toBe("200");
    }
  });

  it("refuses (400) an If-Match that is not entity-tags, as a write does, naming the header", async () => {
    for (const r of await versionedResources()) {
      for (const bad of ["abc", '"1', '*, "1"', ","]) {
        const res = await r.read({ "if-match": bad });
        expect(outcome(res), `${r.name} ${bad}`).toBe("400 validation_failed");
        expect(res.body.errors, `${r.name} ${bad}`).toEqual([expect.objectContaining({ path: "header.if-match" })]);
        expect(res.headers.get("etag"), r.name).toBeNull();
      }
    }
  });

  it("never answers 412 (or 400) to a caller the 200 would not serve", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const hook = await call("/api/v1/admin/webhooks", {
      token: a.adminKey,
      body: { url: "https://hooks.example.com/if-match-read", events: ["blog.post.*"] },
    });
    expect(hook.status).toBe(201);
    const path = `/api/v1/admin/webhooks/${hook.body.id}`;
    const member = await newUser(a.slug);
    for (const tags of ['"9"', "abc"]) {
      const headers = { "if-match": tags };
      expect(outcome(await call(path, { token: b.adminKey, headers })), tags).toBe("404 not_found");
      expect(outcome(await call(path, { tenant: a.slug, headers })), tags).toBe("401 unauthenticated");
      expect(outcome(await call(path, { token: member.access_token as string, headers })), tags).toBe("403 forbidden");
      const missing = await call("/api/v1/admin/webhooks/whk_nothing_here", { token: a.adminKey, headers });
      expect(outcome(missing), tags).toBe("404 not_found");
    }
  });
});

describe("the contract of If-Match on reads", () => {
  it("declares If-Match, its 412 and 400 on every GET whose 200 sends an ETag", async () => {
    const { tagged: versioned } = await servedGets();
    expect(versioned.map(([path]) => path)).toEqual(
      expect.arrayContaining(["/api/v1/blog/posts/{id}", "/api/v1/admin/settings", "/api/v1/admin/sso"]),
    );
    for (const [path, get] of versioned) {
      expect(get.parameters?.filter((p) => p.name.toLowerCase() === "if-match").length, path).toBe(1);
      expect(Object.keys(get.responses), path).toEqual(expect.arrayContaining(["400", "412"]));
    }
  });
});
