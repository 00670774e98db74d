import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The blog's read model, filled by the post projection. `version` is the
 * last event applied to the row: the projection applies version v only where
 * the row is at v - 1. Deleted posts stay as tombstones (status `deleted`) so
 * a late duplicate cannot resurrect them.
 */
export const blogPosts = sqliteTable(
  "blog_posts",
  {
    tenantId: text("tenant_id").notNull(),
    id: text("id").notNull(),
    title: text("title").notNull(),
    content: text("content").notNull(),
    status: text("status").notNull(),
    authorId: text("author_id").notNull(),
    version: integer("version").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    publishedAt: text("published_at"),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index("blog_posts_tenant_created").on(t.tenantId, t.createdAt, t.id),
  ],
);
