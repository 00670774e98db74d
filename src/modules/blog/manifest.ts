import { POST_EVENT_TYPES } from "./domain";

/** The sample `blog` module: the reference for module authors. */
export const manifest = {
  name: "blog",
  version: "1.0.0",
  description: "Sample event-sourced module: posts with drafts, publishing and an eventually consistent list.",
  depends_on: { identity: "^1.0.0" },
  permissions: ["blog.post.create", "blog.post.read", "blog.post.update", "blog.post.publish", "blog.post.delete"],
} as const;

export const publishes: readonly string[] = POST_EVENT_TYPES;
