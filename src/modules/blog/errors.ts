import { defineErrorCodes } from "../../kernel/errors/codes";

/**
 * The blog module's error codes, part of the public contract. Deleted posts
 * answer `post_not_found`, exactly like posts that never existed.
 *
 * @example
 * throw moduleError(blogErrors, decision.error.code, { detail: decision.error.message });
 */
export const blogErrors = defineErrorCodes({
  post_not_found: { status: 404, title: "Post not found" },
  post_exists: { status: 409, title: "Post already exists" },
  post_already_published: { status: 409, title: "Post already published" },
  post_update_empty: { status: 400, title: "Empty update" },
});

/** A blog error code. */
export type BlogErrorCode = keyof typeof blogErrors;
