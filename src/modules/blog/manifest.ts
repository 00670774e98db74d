import { POST_EVENT_TYPES } from "./domain";

/** Permission constants of the blog module, so routes never spell them as strings. */
export const P = {
  create: "blog.post.create",
  read: "blog.post.read",
  update: "blog.post.update",
  publish: "blog.post.publish",
  delete: "blog.post.delete",
} as const;

/** The sample `blog` module: the reference for module authors. */
export const manifest = {
  name: "blog",
  version: "1.0.0",
  description: "Sample event-sourced module: posts with drafts, publishing and an eventually consistent list.",
  depends_on: { identity: "^1.0.0" },
  permissions: Object.values(P),
} as const;

export const publishes: readonly string[] = POST_EVENT_TYPES;
