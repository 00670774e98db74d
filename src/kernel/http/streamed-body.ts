import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { findTargetHandler } from "hono/utils/handler";
import { AppError } from "../errors";

/**
 * Route middleware that marks an operation whose handler reads the request
 * body as a stream and enforces its own size limit (a file upload). It does
 * nothing itself: the kernel's middleware ahead of the route ask
 * {@link streamsBody} and step aside (the buffered `MAX_BODY_BYTES` limit) or
 * fingerprint the body by its declared digest (idempotency). Added by
 * `operations()` for `streamsBody: true`; never used directly.
 */
export const streamedBody: MiddlewareHandler = async function streamedBody(_c, next) {
  await next();
};

/** Whether the request's route streams its body (its operation declares `streamsBody: true`). */
export function streamsBody(c: Context): boolean {
  // Routing is done before any middleware runs: every handler of the matched route is known.
  return matchedRoutes(c).some((r) => findTargetHandler(r.handler) === streamedBody);
}

/** The request fields that declare a body's digest (RFC 9530): for a body with no content coding, both name the same bytes. */
export type DigestField = "Content-Digest" | "Repr-Digest";

/**
 * The SHA-256 a request declares for its body in `Content-Digest` or
 * `Repr-Digest` (RFC 9530, `sha-256=:<base64>:`, among other algorithms or
 * alone): the 32 bytes, or null when the header is absent. A header with no
 * SHA-256 in it (`garbage`, or only algorithms plinth does not check) is 400
 * `validation_failed`, as is a malformed one: a client that declared a digest
 * expects it checked, and an upload that ignored it would store bytes nobody
 * verified.
 *
 * @example
 * declaredSha256("sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"); // the digest of ""
 */
export function declaredSha256(header: string | undefined, field: DigestField = "Content-Digest"): Uint8Array | null {
  if (header === undefined) return null;
  for (const member of header.split(",")) {
    const [key = "", value = ""] = member.split(/=(.*)/s, 2).map((p) => p.trim());
    if (key.toLowerCase() !== "sha-256") continue;
    // A Dictionary member's value may carry parameters (`;key=value`, RFC 9651 §3.2): not part of the digest.
    const m = /^:([A-Za-z0-9+/]{43}=):(?:\s*;.*)?$/s.exec(value);
    if (!m?.[1]) break;
    return Uint8Array.from(atob(m[1]), (ch) => ch.charCodeAt(0));
  }
  throw new AppError("validation_failed", {
    detail: `${field} must carry sha-256=:<base64 of 32 bytes>:`,
    errors: [{ path: `header.${field.toLowerCase()}`, message: "sha-256=:<base64 of 32 bytes>: (RFC 9530)" }],
  });
}
