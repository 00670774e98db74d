import type { MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { streamsBody } from "./streamed-body";

/**
 * Refuses bodies over the configured `MAX_BODY_BYTES` with 413
 * `payload_too_large`: at once when `Content-Length` says so, and as soon as
 * a chunked body passes the limit while it streams in. An operation that
 * streams its body (`streamsBody: true`, a file upload) is passed through
 * untouched: this limit buffers what it counts, and the operation enforces
 * its own, larger one as it reads.
 */
export const bodyLimit = (): MiddlewareHandler<AppEnv> => {
  // One limiter per configured size; the size is fixed for an isolate's env.
  const limiters = new Map<number, MiddlewareHandler>();
  return async function bodyLimit(c, next) {
    if (c.req.raw.body && streamsBody(c)) return next();
    const maxSize = c.get("config").maxBodyBytes;
    let limiter = limiters.get(maxSize);
    if (!limiter) {
      limiter = honoBodyLimit({
        maxSize,
        onError: () => {
          throw new AppError("payload_too_large", { detail: `request bodies are limited to ${maxSize} bytes` });
        },
      });
      limiters.set(maxSize, limiter);
    }
    return limiter(c, next);
  };
};
