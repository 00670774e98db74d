// The blog's part of GET /api/v1/me/export for a post its author deleted: the post is listed (it was
// written, and deleted, by them) as id, status, version and when it was created and deleted, with
// no title or text. docs/identity.md, "What an export holds".
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import { postDecider } from "../../src/modules/blog/domain";
import { eventually } from "../files/helpers";
import { call, newTenant, newUser } from "../identity/helpers";

type Post = Record<string, unknown>;
const postsIn = (res: { body: Record<string, unknown> }): Post[] =>
  (res.body as { modules?: { blog?: { posts?: Post[] } } }).modules?.blog?.posts ?? [];

describe("a deleted post in its author's export", () => {
  it("shows its id, status and deletion time, and none of its text", async () => {
    const t = await newTenant("bex");
    const ada = await newUser(t.slug);
    const write = (title: string, content: string) =>
      call("/api/v1/blog/posts", { token: ada.access_token, body: { title, content } });
    const kept = await write("a kept title", "kept words");
    const gone = await write("a regretted title", "regretted words");
    expect(gone.status, JSON.stringify(gone.body)).toBe(201);
    const id = String(gone.body.id);
    const edited = await call(`/api/v1/blog/posts/${id}`, {
      method: "PATCH",
      token: ada.access_token,
      body: { content: "regretted edit" },
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    const deleted = await call(`/api/v1/blog/posts/${id}`, { method: "DELETE", token: ada.access_token });
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);
    const deletion = (await aggregateOf(env, postDecider, t.id, id).read(3, 1))[0];
    expect(deletion?.type).toBe("blog.post.deleted");

    const got = await eventually(
      () => call("/api/v1/me/export", { token: ada.access_token }),
      (res) => res.status !== 200 || postsIn(res).some((p) => p.id === id && p.status === "deleted"),
    );
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    const posts = postsIn(got);
    expect(posts.find((p) => p.id === id)).toEqual({
      id,
      status: "deleted",
      version: 3,
      created_at: expect.any(String),
      deleted_at: deletion?.occurred_at,
    });
    expect(posts.find((p) => p.id === kept.body.id)).toMatchObject({ title: "a kept title", content: "kept words" });
    const text = JSON.stringify(got.body);
    for (const gone of ["a regretted title", "regretted words", "regretted edit"]) expect(text).not.toContain(gone);
  });
});
