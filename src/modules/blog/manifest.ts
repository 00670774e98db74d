/** The sample `blog` module: the reference for module authors. Read by `npm run generate`: imports nothing. */
export const manifest = {
  name: "blog",
  version: "1.0.0",
  description: "Sample event-sourced module: posts with drafts, publishing and an eventually consistent list.",
  depends_on: { identity: "^1.0.0" },
  permissions: ["blog.post.create", "blog.post.read", "blog.post.update", "blog.post.publish", "blog.post.delete"],
  // Every new tenant's members write and read posts (and, as authors, edit their own).
  grants: { member: ["blog.post.create", "blog.post.read"] },
  // A webhook following posts needs what reads them through the API.
  event_read: { "blog.*": "blog.post.read" },
} as const;
