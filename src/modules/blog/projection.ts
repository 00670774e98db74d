import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { parseStream, project, type StreamProjection } from "../../kernel/events/projection";
import type { EventSubscriber } from "../../kernel/modules/types";
import type { DomainEvent } from "../../kernel/outbox";
import { blogPosts } from "./read-model";

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Builds `blog_posts` from `blog.post.*` events, one row per post, conditional on its version. */
export const postProjection: StreamProjection = {
  name: "blog.posts",
  async position(env, event) {
    const { tenantId, id } = parseStream(event.stream);
    const row = await drizzle(env.DB)
      .select({ version: blogPosts.version })
      .from(blogPosts)
      .where(and(eq(blogPosts.tenantId, tenantId), eq(blogPosts.id, id)))
      .get();
    return row?.version ?? 0;
  },
  async apply(env, event) {
    const db = drizzle(env.DB);
    const { tenantId, id } = parseStream(event.stream);
    const at = event.occurred_at;
    const row = and(eq(blogPosts.tenantId, tenantId), eq(blogPosts.id, id), eq(blogPosts.version, event.version - 1));
    const data = event.data;
    switch (event.type) {
      case "blog.post.created":
        await db
          .insert(blogPosts)
          .values({
            tenantId,
            id,
            title: str(data.title) ?? "",
            content: str(data.content) ?? "",
            status: "draft",
            authorId: str(data.author_id) ?? "",
            version: event.version,
            createdAt: at,
            updatedAt: at,
          })
          .onConflictDoNothing();
        return;
      case "blog.post.updated":
        await db
          .update(blogPosts)
          .set({
            ...(str(data.title) !== undefined ? { title: str(data.title) } : {}),
            ...(str(data.content) !== undefined ? { content: str(data.content) } : {}),
            updatedAt: at,
            version: event.version,
          })
          .where(row);
        return;
      case "blog.post.published":
        await db
          .update(blogPosts)
          .set({
            status: "published",
            publishedAt: str(data.published_at) ?? at,
            updatedAt: at,
            version: event.version,
          })
          .where(row);
        return;
      case "blog.post.deleted":
        await db.update(blogPosts).set({ status: "deleted", updatedAt: at, version: event.version }).where(row);
        return;
      default:
        // An event type this projection does not know still advances the stream's position.
        await db.update(blogPosts).set({ version: event.version }).where(row);
    }
  },
};

/** The queue subscriber feeding the projection. */
export const projectPost: EventSubscriber = async (event, runtime) => {
  await project(runtime.env, postProjection, event as unknown as DomainEvent);
};
