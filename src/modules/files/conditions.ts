import { parseHttpDate } from "../../kernel/http/http-date";
import { matchNames, noneMatchNames } from "../../kernel/http/read-preconditions";

/**
 * A download's conditional request (RFC 9110 §13), decided over the stored object's
 * validators: its entity tag and when it was stored (its `Last-Modified`). Pure; the caller
 * reads the headers and the object's metadata. Only GET and HEAD come here.
 */

/** What the conditions compare against: R2's strong entity tag, and when the object was stored (ms). */
export interface Validators {
  etag: string;
  lastModified: number;
}

/** The conditional header fields of a download, as received. */
export interface Conditions {
  ifMatch?: string | undefined;
  ifUnmodifiedSince?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
}

/** Serve the file, answer 304, or 412 naming the field that was false. */
export type Verdict =
  | { kind: "serve" }
  | { kind: "not_modified" }
  | { kind: "failed"; field: "If-Match" | "If-Unmodified-Since" };

/** Last-Modified as sent, to the whole second: what a client's date is compared with. */
const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

/**
 * The conditions in the order of RFC 9110 §13.2.2: `If-Match`, else `If-Unmodified-Since`
 * (412 when false); then `If-None-Match` (304 when it names the file), else
 * `If-Modified-Since` (304 when the file is no newer). A date that is not an HTTP-date is
 * ignored, as each field says.
 *
 * @example
 * preconditions({ ifMatch: '"a"' }, { etag: '"b"', lastModified: 0 }); // { kind: "failed", field: "If-Match" }
 */
export function preconditions(c: Conditions, v: Validators): Verdict {
  const modified = wholeSeconds(v.lastModified);
  if (c.ifMatch !== undefined) {
    // Strongly compared (a weak tag never matches); the route refused a value that is not entity-tags (400).
    if (matchNames(c.ifMatch, v.etag) !== true) return { kind: "failed", field: "If-Match" };
  } else {
    const since = parseHttpDate(c.ifUnmodifiedSince);
    if (since !== null && modified > since) return { kind: "failed", field: "If-Unmodified-Since" };
  }
  if (c.ifNoneMatch !== undefined)
    return noneMatchNames(c.ifNoneMatch, v.etag) ? { kind: "not_modified" } : { kind: "serve" };
  const since = parseHttpDate(c.ifModifiedSince);
  return since !== null && modified <= since ? { kind: "not_modified" } : { kind: "serve" };
}

/**
 * Whether `If-Range` lets a `Range` apply (§13.1.5): absent; the current entity tag, compared
 * strongly; or exactly the `Last-Modified` date (a stored file never changes, so its date is
 * as good a validator as its tag). Anything else asks for the whole file.
 */
export function rangeApplies(ifRange: string | undefined, v: Validators): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"')) return value === v.etag;
  return parseHttpDate(value) === wholeSeconds(v.lastModified);
}
