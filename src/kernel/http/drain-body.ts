import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";

/** What is read of a body nobody read when `MAX_BODY_BYTES` is not known (the default limit). */
const DEFAULT_LIMIT = 1_048_576;

/**
 * Reads to its end, before the answer goes out, a request body the app answered without reading:
 * a refusal that comes before validation (401, 403, 404, 429, an early 413) leaves it unread.
 * workerd (`npm start`, `wrangler dev`, a self-hosted workerd) cannot reuse a connection whose
 * request body was left unread, and a client that keeps connections alive (Node's http agent and
 * fetch, browsers) got "socket hang up" or ECONNRESET on it instead of an answer: a key refused
 * by a users-only route was seen so. Read after the answer (`waitUntil`) was too late for a body
 * of 20 kB, so the refusal waits for the client's upload, which it was sending anyway. Only a
 * body whose `Content-Length` is at most `MAX_BODY_BYTES` is read: a larger or chunked one (an
 * upload refused before it was read: 411, 413) is cancelled unread, and that client's connection
 * may close. test/node/kept-alive.test.ts.
 */
export const drainBody = (): MiddlewareHandler<AppEnv> =>
  async function drainBody(c, next) {
    await next();
    const request = c.req.raw;
    if (request.body === null || request.bodyUsed) return;
    const limit = c.get("config")?.maxBodyBytes ?? DEFAULT_LIMIT;
    const declared = Number(request.headers.get("content-length") ?? Number.NaN);
    // A client gone mid-upload has nothing left to answer: neither changes the answer.
    if (Number.isSafeInteger(declared) && declared <= limit) await drain(request.body, limit).catch(() => {});
    else await request.body.cancel().catch(() => {});
  };

/** Reads `body` until it ends or `limit` bytes were read, then cancels what is left. */
async function drain(body: ReadableStream<Uint8Array>, limit: number): Promise<void> {
  const reader = body.getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > limit) {
        await reader.cancel();
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
