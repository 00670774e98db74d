import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { entityTags } from "./if-match";

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

/**
 * Answers `304 Not Modified` to a GET or HEAD whose `If-None-Match` names the `ETag` of the 200
 * the route answered (RFC 9110 §13.1.2), once for every route: a client revalidating its copy
 * gets no body. It looks only at the answer the route gave, so the 304 comes after the
 * credential, the tenant and the operation's permission were checked, exactly as the 200 would
 * have been, and compares with the tag made for this caller's resource: it cannot tell another
 * tenant or credential anything the 200 would not. Any other status (an error, a 206, a file's
 * own 304) passes untouched: §13.2.1 has a server ignore the conditions where the answer would
 * not be a 2xx, and §15.4.5 defines 304 only for what would have been 200.
 *
 * Mounted inside CORS and the rate-limit headers, which then set theirs on the 304 as on any
 * answer; the request id and security headers are set outermost.
 */
export const notModified = (): MiddlewareHandler<AppEnv> =>
  async function notModified(c, next) {
    await next();
    const method = c.req.method;
    if (method !== "GET" && method !== "HEAD") return;
    const ifNoneMatch = c.req.header("if-none-match");
    const etag = c.res.headers.get("etag");
    if (ifNoneMatch === undefined || etag === null || c.res.status !== 200) return;
    if (!noneMatchNames(ifNoneMatch, etag)) return;
    const headers = new Headers(c.res.headers);
    for (const name of BODY_FIELDS) headers.delete(name);
    // The 200's body is never read: release it rather than leave its stream open.
    await c.res.body?.cancel();
    // Cleared first: Hono copies the old answer's headers onto a new one, the body's fields included.
    c.res = undefined;
    c.res = new Response(null, { status: 304, headers });
  };
