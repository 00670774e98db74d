/**
 * What an upload must show before any byte is read or any quota held: a
 * `Content-Length` within the largest file allowed, a media type the
 * platform stores, and no content coding. Each refusal is the problem the client reads.
 */
import type { Context } from "hono";
import type { AppEnv } from "../../kernel/env";
import { AppError, acceptedTypes, moduleError } from "../../kernel/errors";
import { fileErrors } from "./errors";
import { ALLOWED_TYPES, fileLimits, storedType } from "./policy";

/** `Content-Length` as a byte count; null when absent. */
function contentLength(header: string | undefined): number | null {
  if (header === undefined) return null;
  if (!/^\d{1,16}$/.test(header.trim())) {
    throw new AppError("validation_failed", {
      detail: "Content-Length must be a byte count",
      errors: [{ path: "header.content-length", message: "a byte count" }],
    });
  }
  return Number(header.trim());
}

/** Checks an upload's size and type before any byte is read or any quota held. */
export function admit(c: Context<AppEnv>): { length: number; contentType: string } {
  const length = contentLength(c.req.header("content-length"));
  if (length === null) {
    throw moduleError(fileErrors, "length_required", { detail: "send the file's size in Content-Length" });
  }
  const { maxFileBytes } = fileLimits(c.env);
  if (length > maxFileBytes) {
    throw new AppError("payload_too_large", { detail: `files are limited to ${maxFileBytes} bytes` });
  }
  const contentType = storedType(c.req.header("content-type"));
  if (!contentType) {
    // A form (curl -F, a browser's FormData) is how uploads go elsewhere: say what this route takes instead.
    const form = /^\s*multipart\//i.test(c.req.header("content-type") ?? "");
    const hint = form
      ? "; the body is the file's bytes with their own Content-Type, not a multipart form (curl --data-binary @file -H 'Content-Type: …')"
      : "";
    throw new AppError("unsupported_media_type", {
      detail: `a file's Content-Type is one of ${ALLOWED_TYPES.join(", ")}${hint}`,
      headers: acceptedTypes("POST", ALLOWED_TYPES),
    });
  }
  refuseContentCoding(c.req.header("content-encoding"));
  return { length, contentType };
}

/**
 * Refuses a body sent with a content coding (`Content-Encoding: gzip`) with 415 and
 * `Accept-Encoding: identity` (RFC 9110 §15.5.16): the Worker does not decode a request body,
 * so the coded bytes would be stored as the file under its declared type, counted, digested
 * and served back without the coding, and a `Repr-Digest` of the decoded bytes would not
 * match them. `identity` (or an empty value) is no coding.
 */
function refuseContentCoding(header: string | undefined): void {
  const codings = (header ?? "")
    .split(",")
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== "" && coding !== "identity");
  if (codings.length === 0) return;
  throw new AppError("unsupported_media_type", {
    detail: `files are uploaded as they are, without a content coding (Content-Encoding: ${codings.join(", ")})`,
    headers: { "Accept-Encoding": "identity" },
  });
}
