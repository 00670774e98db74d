import { stateProjection } from "../../kernel/events/projection";
import { tableRows } from "../../kernel/events/table-rows";
import { PostStateSchema, postDecider } from "./domain";
import { blogPosts } from "./read-model";

/** A post's row of `blog_posts`: its state at a version. */
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

/** `blog_posts`: each post's state, evolved by the decider itself; applied inline by the writer and by the queue. */
export const postProjection = stateProjection("blog.posts", postDecider, postRows);
