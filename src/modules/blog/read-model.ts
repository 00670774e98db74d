import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The blog's read model: one row per post holding the Post aggregate's state
 * (same field names) at `version`, filled by the post projection. Deleted
 * posts stay as tombstones (status `deleted`) so a late duplicate cannot
 * resurrect them.
 */
export const blogPosts = sqliteTable(
  "blog_posts",
  {
    tenant_id: text("tenant_id").notNull(),
    id: text("id").notNull(),
    title: text("title").notNull(),
    content: text("content").notNull(),
    status: text("status", { enum: ["none", "draft", "published", "deleted"] }).notNull(),
    author_id: text("author_id").notNull(),
    version: integer("version").notNull(),
    created_at: text("created_at").notNull(),
    updated_at: text("updated_at").notNull(),
    published_at: text("published_at"),
  },
  (t) => [
    primaryKey({ columns: [t.tenant_id, t.id] }),
    index("blog_posts_tenant_created").on(t.tenant_id, t.created_at, t.id),
  ],
);
