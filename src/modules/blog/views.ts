import { z } from "@hono/zod-openapi";
import type { PostState } from "./domain";

/** A post as the contract shows it. */
export const PostSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    content: z.string(),
    status: z.enum(["draft", "published"]),
    author_id: z.string(),
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Post");

export type PostView = z.infer<typeof PostSchema>;

/** The view of an aggregate's state; null when the post does not exist (or was deleted). */
export function fromState(state: PostState, version: number): PostView | null {
  if (state.status !== "draft" && state.status !== "published") return null;
  return {
    id: state.id ?? "",
    title: state.title,
    content: state.content,
    status: state.status,
    author_id: state.author_id ?? "",
    version,
    created_at: state.created_at ?? "",
    updated_at: state.updated_at ?? state.created_at ?? "",
  };
}

/** The view of a read-model row. */
export function fromRow(row: {
  id: string;
  title: string;
  content: string;
  status: string;
  authorId: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}): PostView {
  return {
    id: row.id,
    title: row.title,
    content: row.content,
    status: row.status === "published" ? "published" : "draft",
    author_id: row.authorId,
    version: row.version,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}
