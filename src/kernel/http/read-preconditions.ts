import { entityTags } from "./if-match";

/**
 * The preconditions of a read (GET, HEAD) over the `ETag` of the representation it would send:
 * RFC 9110 §13.1.1 (If-Match), §13.1.2 (If-None-Match), evaluated in §13.2.2's order. Pure; the
 * kernel's conditional-read stage and a file's download both decide with it.
 */

/**
 * Whether `If-Match` names `etag` (RFC 9110 §13.1.1): `*` names any current representation;
 * otherwise a listed strong tag equal to it. The comparison is strong: a weak tag (`W/"3"`) never
 * matches, nor does anything when `etag` is itself weak. `"invalid"` when the value is not
 * entity-tags. A bare `3` is taken as `"3"`, the contract's leniency for versions. Pure.
 *
 * @example
 * matchNames('W/"3", "7"', '"3"'); // false: W/"3" is weak
 * matchNames("abc", '"3"');        // "invalid"
 */
export function matchNames(ifMatch: string, etag: string): boolean | "invalid" {
  const tags = entityTags(ifMatch);
  if (tags === "any") return true;
  if (tags === "invalid") return "invalid";
  return tags.some((tag) => !tag.weak && `"${tag.opaque}"` === etag);
}

/**
 * Whether `If-None-Match` names `etag` (RFC 9110 §13.1.2): `*` names any current
 * representation; otherwise a listed tag equal to it once both drop `W/` (weak comparison, so
 * `W/"3"` names `"3"`). A value that is not entity-tags names nothing: a GET then answers in
 * full, as RFC 9110 lets a recipient ignore a field it cannot parse (a cache or a proxy may send
 * one, and a read refused for it would break that client for nothing). Pure.
 *
 * @example
 * noneMatchNames('W/"3", "7"', '"3"'); // true
 * noneMatchNames("abc", '"3"');        // false: not entity-tags, ignored
 */
export function noneMatchNames(ifNoneMatch: string, etag: string): boolean {
  const tags = entityTags(ifNoneMatch);
  if (tags === "any") return true;
  const current = etag.replace(/^W\//, "");
  return tags !== "invalid" && tags.some((tag) => `"${tag.opaque}"` === current);
}

/**
 * What a read's preconditions decide: send the representation, 304, 412, refuse the If-Match
 * (400), or refuse tags sent to a read that has none (400).
 */
export type ReadVerdict = "serve" | "not_modified" | "precondition_failed" | "invalid_if_match" | "untagged_if_match";

/**
 * The verdict on a read whose answer would be a 200 carrying `etag` (RFC 9110 §13.2.2):
 * `If-Match` first, false → `precondition_failed` (the read is not performed, §13.1.1); then
 * `If-None-Match`, naming it → `not_modified`. `If-Unmodified-Since` and `If-Modified-Since` are
 * not weighed: they compare a `Last-Modified`, which these answers do not carry (§13.1.3, §13.1.4).
 *
 * An `If-Match` that is not entity-tags is `invalid_if_match`, where a malformed If-None-Match is
 * ignored: ignoring If-None-Match yields the full answer the client would get without it, but
 * ignoring If-Match would send a representation the client asked not to get, under a 200 that
 * says its condition held. So it is refused as a write's is, and as a file's download does.
 *
 * A 200 without an `ETag` (`etag` null: a user, a list) has no tag a list could name, so an
 * `If-Match` of entity-tags is false there (§13.1.1) and the read is not performed; it is
 * `untagged_if_match`, a 400 as a write to such a resource answers, not a 412: plinth's 412 says
 * another version is current and names it, and here there is none to name, nor one a client could
 * ever send. `*` holds (the 200 is a current representation), as on every read. `If-None-Match`
 * is not weighed there: a 304 needs a validator to stand for the 200.
 *
 * @example
 * readPreconditions({ ifMatch: '"2"', ifNoneMatch: '"1"' }, '"1"'); // "precondition_failed"
 * readPreconditions({ ifMatch: '"2"' }, null);                      // "untagged_if_match"
 */
export function readPreconditions(
  headers: { ifMatch?: string | undefined; ifNoneMatch?: string | undefined },
  etag: string | null,
): ReadVerdict {
  if (headers.ifMatch !== undefined) {
    const tags = entityTags(headers.ifMatch);
    if (tags === "invalid") return "invalid_if_match";
    if (etag === null) return tags === "any" ? "serve" : "untagged_if_match";
    if (!matchNames(headers.ifMatch, etag)) return "precondition_failed";
  }
  if (etag === null) return "serve";
  if (headers.ifNoneMatch !== undefined && noneMatchNames(headers.ifNoneMatch, etag)) return "not_modified";
  return "serve";
}
