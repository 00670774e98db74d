import { stateProjection } from "../../kernel/events/projection";
import { tableRows } from "../../kernel/events/table-rows";
import { type PostEvent, type PostState, PostStateSchema, postDecider } from "./domain";
import { blogPosts } from "./read-model";

/** A post's row of `blog_posts`: its state at a version (a deleted post's: a tombstone without text). */
export const postRows = tableRows(blogPosts, {
  state: (row) => PostStateSchema.parse(row),
  row: (state, key) => ({
    ...state,
    id: key.id,
    author_id: state.author_id ?? "",
    created_at: state.created_at ?? "",
    updated_at: state.updated_at ?? state.created_at ?? "",
  }),
});

/**
 * The decider as the projection folds it. A deletion stored before its data carried `deleted_at`
 * is dated by its envelope's `occurred_at` (the writer's clock at the append, which `deleted_at`
 * now copies), so an `events replay --rebuild` dates old tombstones as it blanks them.
 */
const projected: typeof postDecider = {
  ...postDecider,
  evolve(state: PostState, event: PostEvent): PostState {
    if (event.type !== "blog.post.deleted" || event.data.deleted_at !== undefined) {
      return postDecider.evolve(state, event);
    }
    // The queue, the catch-up and a replay hand the projection whole envelopes; the writer does not.
    const at = "occurred_at" in event && typeof event.occurred_at === "string" ? event.occurred_at : undefined;
    return postDecider.evolve(state, { type: event.type, data: at === undefined ? {} : { deleted_at: at } });
  },
};

/** `blog_posts`: each post's state, evolved by the decider itself; applied inline by the writer and by the queue. */
export const postProjection = stateProjection("blog.posts", projected, postRows);
