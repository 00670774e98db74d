import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts the client's `X-Request-Id` when it is sane, else generates one. */
export function pickRequestId(incoming: string | undefined | null): string {
  return incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}

/**
 * Puts the request id on the context and echoes it in `X-Request-Id` on every
 * response, errors included.
 */
export const requestId = (): MiddlewareHandler<AppEnv> =>
  async function requestId(c, next) {
    const id = pickRequestId(c.req.header("x-request-id"));
    c.set("requestId", id);
    await next();
    c.res.headers.set("X-Request-Id", id);
  };
