import { HTTPException } from "hono/http-exception";
import { ActorBackingOff } from "../actors/options";
import { isTenantErased } from "../durable/tombstone";
import { AppError } from "./app-error";
import { ConfigError } from "./config-error";

/** RFC 9457 problem details, as the contract shapes them. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  request_id: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Serialises an AppError as a problem+json body for the given request id. */
export function toProblem(error: AppError, requestId: string): Problem {
  const problem: Problem = {
    ...error.extensions,
    type: `/problems/${error.code}`,
    title: error.title,
    status: error.status,
    code: error.code,
    detail: error.detail ?? error.title,
    request_id: requestId,
  };
  if (error.errors) problem.errors = error.errors;
  return problem;
}

/** Builds the problem+json Response for an AppError. */
export function problemResponse(error: AppError, requestId: string): Response {
  const headers = new Headers(error.headers);
  headers.set("Content-Type", PROBLEM_CONTENT_TYPE);
  // RFC 9110 §15.5.2: a 401 names the scheme it wants. Every credential plinth takes (API
  // key, access token, metrics token) is a bearer token; a thrower may name its own.
  if (error.status === 401 && !headers.has("WWW-Authenticate")) headers.set("WWW-Authenticate", "Bearer");
  return new Response(JSON.stringify(toProblem(error, requestId)), {
    status: error.status,
    headers,
  });
}

/**
 * The read-model table a failed query named as missing (SQLite's "no such table: x", through D1 or
 * libSQL, and drizzle's "Failed query" wrapper, which keeps it in `cause`); null for any other
 * error, a Durable Object's own SQLite among them. A
 * deploy whose read-model migrations are not applied yet fails this way on every read.
 */
export function missingTable(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    // D1's errors begin "D1_ERROR:", libSQL's "SQLITE_ERROR:"; a Durable Object's own SQLite says neither, and a
    // table missing there is a bug of the object, not a pending migration.
    const match = /^(?:D1_ERROR|SQLITE_ERROR): no such table: ([\w.]+)/.exec(current.message);
    if (match?.[1]) return match[1];
    current = current.cause;
  }
  return null;
}

/**
 * What a 415 adds to say which media types the method's body may have (RFC 9110 §15.5.16):
 * `Accept-Post` on a POST (as W3C LDP defines it), `Accept-Patch` on a PATCH (RFC 5789 §3.1).
 * No header names them for PUT, so a PUT's 415 says it in its detail only.
 *
 * @example
 * acceptedTypes("PATCH", ["application/json"]); // { "Accept-Patch": "application/json" }
 */
export function acceptedTypes(method: string, types: readonly string[]): Record<string, string> {
  const value = types.join(", ");
  if (method === "POST") return { "Accept-Post": value };
  if (method === "PATCH") return { "Accept-Patch": value };
  return {};
}

/**
 * What a failed read-model write says the schema lacks, as `table x` or `column y of x` (SQLite's
 * "no such table: x", "table x has no column named y", "no such column: y", through D1 or libSQL,
 * unwrapped from drizzle's `cause`); null for any other error. A write fails so while the
 * migration that adds it is not applied yet, and on a bug; the caller tells the two apart.
 */
export function missingSchema(error: unknown): string | null {
  const table = missingTable(error);
  if (table !== null) return `table ${table}`;
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const named = /^(?:D1_ERROR|SQLITE_ERROR): table ([\w.]+) has no column named (\w+)/.exec(current.message);
    if (named?.[1] && named[2]) return `column ${named[2]} of ${named[1]}`;
    const column = /^(?:D1_ERROR|SQLITE_ERROR): no such column: ([\w.]+)/.exec(current.message);
    if (column?.[1]) return `column ${column[1]}`;
    current = current.cause;
  }
  return null;
}

/**
 * Maps anything thrown to an AppError. Hono's own HTTPExceptions (malformed
 * JSON, media type gate, body limit) keep their meaning (the gate's 415 names
 * what `method` accepts: only JSON routes have it); a query on a table
 * the migrations have not made yet is `unavailable` (503, Retry-After), since
 * it heals once they are applied; anything else is a bug and becomes
 * `internal`. Both return `expected: false` so the caller logs them, as does an
 * AppError of a 5xx status that carries a cause. An actor paused by its supervision is
 * `unavailable` with Retry-After counted from `now` (the request's clock) to the pause's end.
 */
export function normaliseError(error: unknown, method = "GET", now?: number): { error: AppError; expected: boolean } {
  // A 5xx AppError thrown with a cause (a failed replay call, a refused platform key) is a
  // failure the operator must read about: its cause goes to the log, never to the client.
  if (error instanceof AppError) return { error, expected: !(error.status >= 500 && error.cause !== undefined) };
  // A request that passed the tenant lookup just before the erasure reached an object it had
  // emptied: the tenant is gone, as every other request of it is now told.
  if (isTenantErased(error))
    return { error: new AppError("tenant_not_found", { detail: "no such tenant" }), expected: true };
  if (error instanceof HTTPException) {
    switch (error.status) {
      case 400:
        return {
          error: new AppError("validation_failed", {
            detail: error.message || "the request is malformed",
            errors: [{ path: "body", message: error.message || "malformed request body" }],
          }),
          expected: true,
        };
      case 401:
        return { error: new AppError("unauthenticated"), expected: true };
      case 403:
        return { error: new AppError("forbidden"), expected: true };
      case 404:
        return { error: new AppError("not_found"), expected: true };
      case 413:
        return { error: new AppError("payload_too_large"), expected: true };
      case 415:
        return {
          error: new AppError("unsupported_media_type", {
            detail: "this route accepts application/json bodies only",
            headers: acceptedTypes(method, ["application/json"]),
          }),
          expected: true,
        };
      default:
        break;
    }
  }
  // An actor paused by its supervision after repeated failures (which it logged as it paused):
  // it takes messages again when the pause ends, so the client is told when to come back.
  if (error instanceof ActorBackingOff) {
    const seconds = now === undefined ? 1 : Math.max(1, Math.ceil((error.retryAt - now) / 1000));
    const detail = "this resource is paused after repeated failures; try again later";
    return {
      error: new AppError("unavailable", { detail, headers: { "Retry-After": String(seconds) }, cause: error }),
      expected: true,
    };
  }
  // A variable's value to fix (a retired key version, a signing key pair that does not load).
  if (error instanceof ConfigError)
    return { error: new AppError("config_invalid", { detail: error.detail, cause: error }), expected: false };
  if (missingTable(error) !== null) {
    const detail = "the service's database is being brought up to date; try again shortly";
    return {
      error: new AppError("unavailable", { detail, headers: { "Retry-After": "30" }, cause: error }),
      expected: false,
    };
  }
  return { error: new AppError("internal", { cause: error }), expected: false };
}
