import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { readPreconditions } from "./read-preconditions";
import { refusedTags } from "./refused-tags";

/**
 * The fields a 304 keeps of the 200 it stands for (RFC 9110 §15.4.5): all but the body's own
 * metadata, which would describe a body the 304 has not got. ETag, Cache-Control, Vary,
 * Content-Location, Expires, Last-Modified and the house's headers stay.
 */
const BODY_FIELDS = [
  "content-type",
  "content-length",
  "content-encoding",
  "content-language",
  "content-range",
  "content-disposition",
  "content-digest",
  "repr-digest",
];

// plinth's versioned resources answer `ETag: "<version>"` (docs/http.md, "Versions").
const VERSION_TAG = /^"(\d{1,9})"$/;

/**
 * The 412 of a read whose `If-Match` names no current representation, in the shape a write's
 * has: the current `ETag` as a header, and `current_version` when the tag is a version, so a
 * client learns what is current without another read.
 */
function readPreconditionFailed(etag: string): AppError {
  const version = VERSION_TAG.exec(etag)?.[1];
  return new AppError("version_conflict", {
    detail: `If-Match names no current representation: the current ETag is ${etag}; read it again without If-Match`,
    headers: { ETag: etag },
    ...(version === undefined ? {} : { extensions: { current_version: Number(version) } }),
  });
}

/**
 * The 400 of a read without an `ETag` (a user, a list) asked for tags: no representation of it has
 * one, so none could ever be current (RFC 9110 §13.1.1: the condition is false, and the read is not
 * performed). Refused as a write to such a resource refuses If-Match (kernel/openapi/unversioned.ts),
 * not 412: there is no current tag to name and read again with.
 */
const untaggedIfMatch = () =>
  new AppError("validation_failed", {
    detail: "this resource has no versions (it sends no ETag), so no tag in If-Match can name it: send none, or *",
    errors: [{ path: "header.if-match", message: "names a tag; this resource has none (only * is taken)" }],
  });

/**
 * Decides a GET's or HEAD's preconditions (RFC 9110 §13.2.2) once for every route, from the 200
 * and its `ETag` the route answered: an `If-Match` naming none of it (compared strongly) is `412
 * version_conflict` and the representation is not sent (§13.1.1), an `If-Match` that is not
 * entity-tags `400 validation_failed`; then an `If-None-Match` naming it (compared weakly) is
 * `304 Not Modified` with no body (§13.1.2). A 200 without an `ETag` (a user, a list) takes `*`
 * and refuses tags (400, as its writes do; read-preconditions.ts says why not 412).
 *
 * It looks only at the answer the route gave, so each comes after the credential, the tenant and
 * the operation's permission were checked, exactly as the 200 would have been, and compares with
 * the tag made for this caller's resource: it cannot tell another tenant or credential anything
 * the 200 would not. Any other status (an error, a 206, a file's own 304 or 412) passes untouched:
 * §13.2.1 has a server ignore the conditions where the answer would not be a 2xx, and §15.4.5
 * defines 304 only for what would have been 200. A GET is safe, so reading before deciding
 * changes nothing: "not performed" is the representation not sent.
 *
 * Mounted inside CORS and the rate-limit headers, which then set theirs on the 304 and the 412
 * as on any answer; the request id and security headers are set outermost.
 */
export const notModified = (): MiddlewareHandler<AppEnv> =>
  async function notModified(c, next) {
    await next();
    const method = c.req.method;
    if (method !== "GET" && method !== "HEAD") return;
    if (c.res.status !== 200) return;
    const etag = c.res.headers.get("etag");
    const verdict = readPreconditions(
      { ifMatch: c.req.header("if-match"), ifNoneMatch: c.req.header("if-none-match") },
      etag,
    );
    if (verdict === "serve") return;
    const headers = new Headers(c.res.headers);
    // The 200's body is never read: release it rather than leave its stream open.
    await c.res.body?.cancel();
    // Cleared first: Hono copies the old answer's headers onto a new one (an error's too), the body's fields included.
    c.res = undefined;
    if (verdict === "invalid_if_match") throw refusedTags("if-match", "If-Match");
    // Without an ETag the decider serves or refuses, never 412s nor 304s: `etag === null` is only for the types.
    if (verdict === "untagged_if_match" || etag === null) throw untaggedIfMatch();
    if (verdict === "precondition_failed") throw readPreconditionFailed(etag);
    for (const name of BODY_FIELDS) headers.delete(name);
    c.res = new Response(null, { status: 304, headers });
  };
