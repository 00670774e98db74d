// Every list keyed by plinth's ids refuses a cursor it could not have returned (400 naming
// query.cursor) instead of reading it as a position: "garbage" used to answer a whole list,
// and bytes that are not UTF-8 an empty one. A cursor the list returned still pages on, and
// an empty one is the first page.
import { describe, expect, it } from "vitest";
import { call } from "../identity/helpers";
import { pagedLists } from "./paged-lists";

describe("list cursors", () => {
  it("each id-keyed list refuses a cursor that is not an id, and pages on with one it returned", async () => {
    const { admin, lists } = await pagedLists();
    for (const { path, token } of lists.filter((l) => l.idCursor)) {
      // An empty cursor is the first page (the sessions list read it as "before nothing": empty).
      const first = await call(`${path}?cursor=`, { token });
      expect(first.status, path).toBe(200);
      expect(first.body.items, path).toEqual((await call(path, { token })).body.items);
      for (const cursor of ["garbage", "%FF%FE", "01j9z3k4tq8v6w2m1n5p7r9s0t"]) {
        const res = await call(`${path}?cursor=${cursor}`, { token });
        expect(res.status, `${path} ${cursor}`).toBe(400);
        expect(res.body, `${path} ${cursor}`).toMatchObject({
          code: "validation_failed",
          errors: [{ path: "query.cursor", message: "must be a next_cursor value this list returned" }],
        });
      }
    }
    const created = await call("/api/v1/admin/webhooks", {
      token: admin,
      body: { url: "https://hooks.example.com/in", events: ["blog.post.*"] },
    });
    expect(created.status).toBe(201);
    // Deliveries and the audit log are keyed by position, not id: a number the list returned.
    for (const path of [`/api/v1/admin/webhooks/${created.body.id}/deliveries`, "/api/v1/admin/audit"]) {
      const garbage = await call(`${path}?cursor=garbage`, { token: admin });
      expect(garbage.status, path).toBe(400);
      expect(garbage.body, path).toMatchObject({
        errors: [{ path: "query.cursor", message: "must be a next_cursor value this list returned" }],
      });
      const empty = await call(`${path}?cursor=`, { token: admin });
      expect(empty.status, path).toBe(200);
    }

    // Three posts, two to a page: the returned cursor pages on to the third.
    for (const title of ["a", "b", "c"]) {
      expect((await call("/api/v1/blog/posts", { token: admin, body: { title, content: "" } })).status).toBe(201);
    }
    // The list is eventually consistent: wait until it shows all three, then page.
    for (let i = 0; i < 200; i++) {
      const all = await call("/api/v1/blog/posts?limit=3", { token: admin });
      if ((all.body.items as unknown[]).length === 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const first = await call("/api/v1/blog/posts?limit=2", { token: admin });
    const titles = (page: { body: Record<string, unknown> }) =>
      (page.body.items as { title: string }[]).map((p) => p.title);
    expect(titles(first)).toHaveLength(2);
    const next = first.body.next_cursor as string;
    expect(next).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const rest = await call(`/api/v1/blog/posts?limit=2&cursor=${next}`, { token: admin });
    expect(rest.status).toBe(200);
    // Newest first by id; ids of one millisecond may sort either way, so the pages are compared as a set.
    expect([...titles(first), ...titles(rest)].sort()).toEqual(["a", "b", "c"]);
  });
});
