import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expectProblem } from "../helpers";
import { call, newTenant, ORIGIN } from "../identity/helpers";
import { fetchBytes, uploaded } from "./helpers";

const bytes = (s: string) => new TextEncoder().encode(s).length;
const body = new TextEncoder().encode("hello");

/** The name a download offers, from its `filename*` (RFC 8187). */
const offered = (res: Response) =>
  decodeURIComponent(/filename\*=UTF-8''(.+)$/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? "");

// A name's limit is 255 bytes of UTF-8: what ext4 keeps (255 bytes), and within NTFS's and
// APFS's 255 UTF-16 units (a UTF-8 name never has more units than bytes). It counted code
// points: 255 emoji were stored and offered as a 1,020-byte name no disk could save whole.
describe("files: a name is at most 255 bytes of UTF-8", () => {
  it("refuses a longer name with 400 naming query.name, and stores nothing", async () => {
    const t = await newTenant("nb");
    for (const name of ["😀".repeat(64), `${"a".repeat(252)}.txt_`, `dir/${"é".repeat(128)}`]) {
      const res = await SELF.fetch(`${ORIGIN}/api/v1/files?name=${encodeURIComponent(name)}`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "text/plain" },
        body,
      });
      const problem = await expectProblem(res, 400, "validation_failed");
      expect(
        problem.errors?.map((e) => e.path),
        name,
      ).toEqual(["query.name"]);
    }
    const quota = await call("/api/v1/admin/files/quota", { token: t.adminKey });
    expect(quota.body).toMatchObject({ used_bytes: 0, files: 0 });
  });

  it("keeps a name of 255 bytes, measured as stored (NFC, its last path segment), and cuts only to add its type's extension", async () => {
    const t = await newTenant("nb");
    const exact = `${"😀".repeat(62)}abc.txt`; // 248 + 7 = 255 bytes
    expect((await uploaded(t.adminKey, body, exact)).name).toBe(exact);
    // 300 bytes as sent (e + a combining acute, 3 bytes each), 200 once composed to é.
    const decomposed = "e\u0301".repeat(100);
    expect((await uploaded(t.adminKey, body, `a/b/${decomposed}.txt`)).name).toBe(`${"é".repeat(100)}.txt`);
    // 252 bytes without an extension: ".txt" is added, and the name cut by whole characters to fit it.
    const typed = await uploaded(t.adminKey, body, "😀".repeat(63));
    expect(typed.name).toBe(`${"😀".repeat(62)}.txt`);
    expect(bytes(typed.name)).toBeLessThanOrEqual(255);
    const { res } = await fetchBytes(`/api/v1/files/${typed.id}`, t.adminKey);
    expect(offered(res)).toBe(typed.name);
  });

  it("offers a file stored before the rule under a name of at most 255 bytes, its extension kept", async () => {
    const t = await newTenant("nb");
    const id = "01JZZZZZZZZZZZZZZZZZZZZZZX";
    await env.FILES.put(`${t.id}/${id}`, body, {
      httpMetadata: { contentType: "text/plain" },
      customMetadata: { name: `${"😀".repeat(251)}.txt` },
    });
    const { res } = await fetchBytes(`/api/v1/files/${id}`, t.adminKey);
    expect(res.status).toBe(200);
    const name = offered(res);
    expect(name).toBe(`${"😀".repeat(62)}.txt`);
    expect(bytes(name)).toBeLessThanOrEqual(255);
  });

  it("the OpenAPI document states the limit", async () => {
    const doc = (await (await SELF.fetch(`${ORIGIN}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { parameters?: { name: string; description?: string }[] } }>;
    };
    const name = doc.paths["/api/v1/files"]?.post?.parameters?.find((p) => p.name === "name");
    expect(name?.description).toContain("255 bytes");
  });
});
