// If-Match on a read whose 200 carries no ETag (a user, a list): RFC 9110 13.1.1 makes a list of
// tags false there (no representation has a tag it could name) and `*` true (the 200 is a current
// representation). The read is not performed: 400, as a write to such a resource answers, naming
// the header. It was answered 200 in full, so a client asking for "this version or nothing" got a
// representation under a 200 saying its condition held.
import { describe, expect, it } from "vitest";
import { call, newTenant, newUser } from "../identity/helpers";
import { servedGets } from "./served-gets";

type Answer = Awaited<ReturnType<typeof call>>;
const outcome = (res: Answer) => `${res.status}${res.status >= 400 && res.body.code ? ` ${res.body.code}` : ""}`;

async function untaggedReads() {
  const t = await newTenant("untagged-read");
  const user = await newUser(t.slug);
  const reads = [`/api/v1/users/${user.id}`, "/api/v1/users", "/api/v1/me", "/api/v1/admin/api-keys"];
  for (const path of reads) {
    const plain = await call(path, { token: t.adminKey });
    // The premise: these reads answer 200 with no ETag.
    expect({ status: plain.status, etag: plain.headers.get("etag") }, path).toEqual({ status: 200, etag: null });
  }
  return { t, user, reads };
}

describe("If-Match on a read without an ETag", () => {
  it("refuses (400) tags, which no representation of it has, on GET and HEAD", async () => {
    const { t, reads } = await untaggedReads();
    for (const path of reads) {
      for (const tags of ['"1"', "1", 'W/"1"', '"abc"', '"1", "2"']) {
        const res = await call(path, { token: t.adminKey, headers: { "if-match": tags } });
        expect(outcome(res), `${path} ${tags}`).toBe("400 validation_failed");
        expect(res.body.errors, `${path} ${tags}`).toEqual([expect.objectContaining({ path: "header.if-match" })]);
        expect(String(res.body.detail)).toContain("no versions");
        expect(res.body.items ?? res.body.email, path).toBeUndefined();
        const head = await call(path, { token: t.adminKey, method: "HEAD", headers: { "if-match": tags } });
        expect(head.status, `${path} HEAD ${tags}`).toBe(400);
      }
    }
  });

  it("refuses (400) an If-Match that is not entity-tags, as on a read with an ETag", async () => {
    const { t, reads } = await untaggedReads();
    for (const path of reads) {
      for (const bad of ["abc", '"1', '*, "1"']) {
        const res = await call(path, { token: t.adminKey, headers: { "if-match": bad } });
        expect(outcome(res), `${path} ${bad}`).toBe("400 validation_failed");
        expect(res.body.errors, `${path} ${bad}`).toEqual([expect.objectContaining({ path: "header.if-match" })]);
      }
    }
  });

  it("serves `*` (a 200 is a current representation), and leaves If-None-Match unweighed", async () => {
    const { t, user, reads } = await untaggedReads();
    for (const path of reads) {
      const conditions: Record<string, string>[] = [
        { "if-match": "*" },
        { "if-none-match": '"1"' },
        { "if-none-match": "*" },
      ];
      for (const headers of conditions) {
        const res = await call(path, { token: t.adminKey, headers });
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(200);
      }
    }
    const one = await call(`/api/v1/users/${user.id}`, { token: t.adminKey, headers: { "if-match": "*" } });
    expect(one.body.id).toBe(user.id);
  });

  it("refuses nothing to a caller the 200 would not serve: 404, 401 and 403 first", async () => {
    const { t, user } = await untaggedReads();
    const other = await newTenant("untagged-other");
    const member = await newUser(t.slug);
    const headers = { "if-match": '"1"' };
    const path = `/api/v1/users/${user.id}`;
    expect(outcome(await call(path, { token: other.adminKey, headers }))).toBe("404 not_found");
    expect(outcome(await call(path, { tenant: t.slug, headers }))).toBe("401 unauthenticated");
    expect(outcome(await call(path, { token: member.access_token as string, headers }))).toBe("403 forbidden");
    expect(outcome(await call("/api/v1/users/usr_nothing_here", { token: t.adminKey, headers }))).toBe("404 not_found");
  });
});

describe("the contract of If-Match on a read without an ETag", () => {
  it("declares the 400 on every GET whose 200 sends no ETag, and no If-Match header there", async () => {
    const { untagged } = await servedGets();
    expect(untagged.map(([path]) => path)).toEqual(
      expect.arrayContaining(["/api/v1/users/{id}", "/api/v1/users", "/api/v1/me"]),
    );
    for (const [path, get] of untagged) {
      expect(get.responses["400"]?.description, path).toContain("sends no `ETag`");
      expect(get.parameters?.some((p) => p.name.toLowerCase() === "if-match") ?? false, path).toBe(false);
    }
  });
});
