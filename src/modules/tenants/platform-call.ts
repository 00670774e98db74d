import type { Context } from "hono";
import type { AppEnv } from "../../kernel/env";
import { originOf } from "../../kernel/events/origin";
import type { PlatformCall } from "./service";

/**
 * The platform's call context of a request. Its origin is the kernel's (the root key's principal
 * acts as `platform`), built when asked: an operation asks where it writes, after its registry
 * lookup, so the time its event records is the change's, as a tenant's own requests record it.
 */
export const callOf = (c: Context<AppEnv>): PlatformCall => ({
  environment: c.get("config").environment,
  clock: c.get("clock"),
  origin: () => originOf(c),
});
