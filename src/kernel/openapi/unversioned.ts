import { z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";

/**
 * Whether an operation's declared request headers include `If-Match`. A list of header schemas
 * (rare) counts as declaring it, so an operation is never refused a header it may read.
 */
export function declaresIfMatch(headers: unknown): boolean {
  if (headers === undefined) return false;
  if (headers instanceof z.ZodObject) return Object.keys(headers.shape).some((k) => k.toLowerCase() === "if-match");
  return true;
}

/**
 * A write to a resource without versions refuses `If-Match` (400), whatever it names: nothing
 * would compare it, and a client that sent one would believe its write conditional while it
 * overwrote whatever was there (docs/http.md, "Conditional writes"). `If-None-Match` likewise: a
 * client sending `*` to a create-by-PUT believes it cannot overwrite, and nothing here would
 * check. 400 rather than 412: it is the request that is wrong, checked before the resource is
 * looked up, as a bad field is.
 */
export const refuseIfMatch: MiddlewareHandler<AppEnv> = async (c, next) => {
  for (const [header, name] of [
    ["if-match", "If-Match"],
    ["if-none-match", "If-None-Match"],
  ] as const) {
    if (c.req.header(header) === undefined) continue;
    throw new AppError("validation_failed", {
      detail: `this resource has no versions (it sends no ETag), so its writes cannot honour ${name}: send none`,
      errors: [{ path: `header.${header}`, message: "not taken here: the resource has no versions" }],
    });
  }
  await next();
};
