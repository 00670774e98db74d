// The reads that find one person's rows in a tenant (a post list filtered by author, a
// person's export of their posts and files) must use an index, not walk every row of the
// tenant: a tenant with a million posts answers `?author=` as fast as one with ten. Asked
// of SQLite itself (EXPLAIN QUERY PLAN) for the exact statements the modules run.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readModels } from "../../src/kernel/read-models";
import { listPosts, postsBy } from "../../src/modules/blog/read-model";
import { filesBy } from "../../src/modules/files/read-model";

/** SQLite's plan for a drizzle query, one line per step. */
async function planOf(query: { toSQL(): { sql: string; params: unknown[] } }): Promise<string[]> {
  const { sql, params } = query.toSQL();
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return results.map((r) => r.detail);
}

describe("reads of one person's rows", () => {
  const db = () => readModels(env);

  it("list a tenant's posts by author through the author index", async () => {
    const plan = await planOf(listPosts(db(), { tenantId: "t", authorId: "u", limit: 20 }));
    expect(plan.join("\n")).toMatch(/USING INDEX blog_posts_tenant_author/);
    expect(plan.join("\n")).not.toMatch(/USE TEMP B-TREE/);
  });

  it("find a person's posts for their export through the author index", async () => {
    const plan = await planOf(postsBy(db(), { tenantId: "t", authorId: "u", limit: 101 }));
    expect(plan.join("\n")).toMatch(/USING INDEX blog_posts_tenant_author/);
    expect(plan.join("\n")).not.toMatch(/USE TEMP B-TREE/);
  });

  it("find a person's files for their export through the uploader index", async () => {
    const plan = await planOf(filesBy(db(), { tenantId: "t", userId: "u", limit: 1001 }));
    expect(plan.join("\n")).toMatch(/USING INDEX files_tenant_creator/);
    expect(plan.join("\n")).not.toMatch(/USE TEMP B-TREE/);
  });
});
