/**
 * Whether `error` is the Workers runtime refusing a subrequest because this request has made
 * as many as its plan allows (developers.cloudflare.com/workers/platform/limits/, "Subrequests":
 * every fetch, and every call to a Durable Object, KV, R2 or D1, counts). Retrying it within the
 * same request cannot succeed; the work has to go on in another request.
 *
 * What is recognised is what the runtime throws, as far as it can be seen from outside:
 * - the check is the runtime's `LimitEnforcer::newSubrequest`, called before each subrequest starts
 *   (cloudflare/workerd src/workerd/io/io-context.c++, `IoContext::getSubrequest`; a Durable
 *   Object stub's call is one, src/workerd/api/actor.c++). Open-source workerd, hence Miniflare
 *   and the test pool, enforces nothing there (src/workerd/server/server.c++: "No limits are
 *   enforced", an empty `newSubrequest`), so the limit cannot be reached locally; Cloudflare's
 *   enforcer is not public, and what it throws is known from what it has been seen to throw:
 * - a plain `Error` (name "Error") in the calling Worker whose message begins "Too many
 *   subrequests": "Too many subrequests." (github.com/cmliu/CF-Workers-SUB/issues/42, 2024, with
 *   its stack), and in reports of 2026, with the limit configurable, "Too many subrequests by
 *   single Worker invocation. To configure this limit, refer to
 *   https://developers.cloudflare.com/workers/platform/limits/"
 *   (github.com/query-store-links/qsl-worker/issues/5, and public code that matches it). Miniflare
 *   2's own emulation said "Too many subrequests. Workers can make up to 50 subrequests per
 *   request." The prefix they share is what is matched.
 *
 * An error a Durable Object's own code threw reaches the caller with `remote: true`
 * (developers.cloudflare.com/durable-objects/best-practices/error-handling/): that would be the
 * object's own request out of subrequests, not this one, and is not recognised.
 *
 * @example
 * try { await log.verify({ fromSeq }) } catch (error) { if (isSubrequestLimit(error)) … else throw error }
 */
export function isSubrequestLimit(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== "Error") return false;
  if (Reflect.get(error, "remote") === true) return false;
  return error.message.startsWith(SUBREQUEST_LIMIT_PREFIX);
}

/** How every message of the runtime's subrequest-limit error has begun (see {@link isSubrequestLimit}). */
export const SUBREQUEST_LIMIT_PREFIX = "Too many subrequests";
