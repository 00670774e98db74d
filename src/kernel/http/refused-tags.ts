import { AppError } from "../errors";

/**
 * The 400 of an `If-Match` or `If-None-Match` that is not `*` nor entity-tags, where it is
 * refused (a write's, a read's If-Match): `errors[0].path` names the header.
 */
export const refusedTags = (header: "if-match" | "if-none-match", name: string) =>
  new AppError("validation_failed", {
    detail: `${name} must be *, or entity-tags naming versions like "3"`,
    errors: [{ path: `header.${header}`, message: 'must be * or a list of entity-tags like "3" (or 3)' }],
  });
