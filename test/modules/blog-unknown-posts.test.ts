// A command for a post id nobody created is refused (404) and must leave no Aggregate storage
// behind: ids are the client's, so otherwise N requests with N made-up ids left N objects with
// a schema and a stream row each, billed and never erased (no stream catalog names them).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, newTenant } from "../identity/helpers";

/** The tables the Aggregate named `name` holds (none: it was never written). */
const tablesOf = (name: string) =>
  runInDurableObject(env.AGGREGATE.getByName(name), async (_instance, state) =>
    state.storage.sql
      .exec<{ name: string }>("select name from sqlite_master where type = 'table' order by name")
      .toArray()
      .map((t) => t.name),
  );

describe("blog commands for posts that do not exist", () => {
  it("answer 404 and leave no Aggregate storage, whatever the command", async () => {
    const t = await newTenant();
    const ids = ["made-up-1", "made-up-2", "made-up-3"];
    const requests = [
      (id: string) => call(`/api/v1/blog/posts/${id}`, { method: "PATCH", token: t.adminKey, body: { title: "x" } }),
      (id: string) => call(`/api/v1/blog/posts/${id}/publish`, { method: "POST", token: t.adminKey }),
      (id: string) => call(`/api/v1/blog/posts/${id}`, { method: "DELETE", token: t.adminKey }),
    ];
    for (const [i, id] of ids.entries()) {
      const res = await requests[i % requests.length]?.(id);
      expect(res?.status, id).toBe(404);
      expect(res?.body.code, id).toBe("not_found");
    }
    for (const id of ids) expect(await tablesOf(`${t.id}/post/${id}`), id).toEqual([]);
  });
});
