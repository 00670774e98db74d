/**
 * What an upload must show before any byte is read or any quota held: a
 * `Content-Length` within the largest file allowed, and a media type the
 * platform stores. Each refusal is the problem the client reads.
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
    throw new AppError("unsupported_media_type", {
      detail: `a file's Content-Type is one of ${ALLOWED_TYPES.join(", ")}`,
      headers: acceptedTypes("POST", ALLOWED_TYPES),
    });
  }
  return { length, contentType };
}
