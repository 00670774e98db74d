import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { type RowKey, type StateRows, stateProjection } from "../../kernel/events/projection";
import { type PostState, PostStateSchema, postDecider } from "./domain";
import { blogPosts } from "./read-model";

const row = ({ tenantId, id }: RowKey) => and(eq(blogPosts.tenant_id, tenantId), eq(blogPosts.id, id));

/** A post's row of `blog_posts`: its state at a version. */
export const postRows: StateRows<PostState> = {
  async load(env, key) {
    const found = await drizzle(env.DB).select().from(blogPosts).where(row(key)).get();
    return found ? { version: found.version, state: PostStateSchema.parse(found) } : null;
  },
  async save(env, key, version, state) {
    const values = { ...state, id: key.id, author_id: state.author_id ?? "", version };
    const times = { created_at: state.created_at ?? "", updated_at: state.updated_at ?? state.created_at ?? "" };
    await drizzle(env.DB)
      .insert(blogPosts)
      .values({ ...values, ...times, tenant_id: key.tenantId })
      .onConflictDoUpdate({
        target: [blogPosts.tenant_id, blogPosts.id],
        set: { ...values, ...times },
        setWhere: eq(blogPosts.version, version - 1),
      });
  },
};

/** `blog_posts`: each post's state, evolved by the decider itself, one version at a time. */
export const postProjection = stateProjection("blog.posts", postDecider, postRows);
