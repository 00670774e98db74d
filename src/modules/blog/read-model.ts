import { and, desc, eq, lt, ne } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { ReadModelDb } from "../../kernel/read-models";

/**
 * The blog's read model: one row per post holding the Post aggregate's state
 * (same field names) at `version`, filled by the post projection. Deleted
 * posts stay as tombstones (status `deleted`, `version`, id and author; title and
 * content blank, `updated_at` the deletion's time) so a late duplicate cannot
 * resurrect them and a read of one answers 404.
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
    // `?author=` lists and a person's export: their posts in id order without walking the tenant's.
    index("blog_posts_tenant_author").on(t.tenant_id, t.author_id, t.id),
  ],
);

/** What a post list filters on: a tenant, a status (else every live post), an author, a cursor. */
export interface PostFilter {
  tenantId: string;
  status?: (typeof blogPosts.$inferSelect)["status"];
  authorId?: string;
  /** The last id of the previous page: rows with a smaller id follow. */
  cursor?: string;
  limit: number;
}

/** A tenant's posts, newest id first; deleted ones only when asked for by status. */
export function listPosts(db: ReadModelDb, f: PostFilter) {
  const t = blogPosts;
  return db
    .select()
    .from(t)
    .where(
      and(
        eq(t.tenant_id, f.tenantId),
        f.status ? eq(t.status, f.status) : ne(t.status, "deleted"),
        f.authorId ? eq(t.author_id, f.authorId) : undefined,
        f.cursor ? lt(t.id, f.cursor) : undefined,
      ),
    )
    .orderBy(desc(t.id))
    .limit(f.limit);
}

/**
 * The posts `authorId` wrote in a tenant, every status (drafts, published, and deleted ones, whose
 * tombstones keep no text), newest id first: their export (personal-data.ts), through the
 * (tenant, author, id) index.
 */
export function postsBy(db: ReadModelDb, f: { tenantId: string; authorId: string; limit: number }) {
  const t = blogPosts;
  return db
    .select()
    .from(t)
    .where(and(eq(t.tenant_id, f.tenantId), eq(t.author_id, f.authorId), ne(t.status, "none")))
    .orderBy(desc(t.id))
    .limit(f.limit);
}
