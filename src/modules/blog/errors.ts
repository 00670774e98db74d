import { defineErrorCodes } from "../../kernel/errors/codes";

/**
 * The blog module's error codes, part of the public contract. A missing post
 * is the kernel's `not_found` (see domain.ts): deleted posts, posts that never
 * existed and other tenants' posts answer alike.
 *
 * @example
 * throw moduleError(blogErrors, "post_exists", { detail: `post ${id} already exists` });
 */
export const blogErrors = defineErrorCodes({
  post_exists: { status: 409, title: "Post already exists" },
  post_already_published: { status: 409, title: "Post already published" },
  post_update_empty: { status: 400, title: "Empty update" },
});

/** A code a blog decision may reject with: the module's own, or the kernel's `not_found`. */
export type BlogErrorCode = keyof typeof blogErrors | "not_found";
