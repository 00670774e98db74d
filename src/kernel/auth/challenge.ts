import { AppError } from "../errors";

/**
 * The RFC 6750 §3.1 error codes a 401 names: `invalid_token` for a bearer token that was sent and
 * is unknown, expired, revoked or no longer anyone's; `invalid_request` for an `Authorization`
 * header that is not `Bearer <token>` at all. A 401 to a request that sent no token names none
 * (plain `Bearer`, set in errors/problem.ts), so a page tells "log in again / refresh" from "send
 * the token" by the header alone, without parsing `detail`.
 */
export type BearerError = "invalid_token" | "invalid_request";

/**
 * The `WWW-Authenticate` value for a refused bearer token. `error_description` is a quoted-string
 * limited to printable ASCII without `"` and `\` (RFC 6750 §3), so anything else is dropped.
 */
export function bearerChallenge(error: BearerError, description: string): string {
  const safe = description.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "");
  return `Bearer error="${error}", error_description="${safe}"`;
}

/**
 * A `401 unauthenticated` for a bearer token that was sent and is refused: the problem+json's
 * `detail` and the challenge's `error_description` say the same.
 *
 * @example
 * if (!user) throw tokenRefused("the user no longer exists");
 */
export function tokenRefused(detail: string, error: BearerError = "invalid_token"): AppError {
  return new AppError("unauthenticated", { detail, headers: { "WWW-Authenticate": bearerChallenge(error, detail) } });
}
