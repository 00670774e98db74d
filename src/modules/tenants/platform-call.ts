import type { Context } from "hono";
import type { AppEnv } from "../../kernel/env";
import type { PlatformCall } from "./service";

/** The platform's call context of a request: the root key acts as `platform`. */
export const callOf = (c: Context<AppEnv>): PlatformCall => ({
  environment: c.get("config").environment,
  actor: { kind: "platform", id: "platform" },
  requestId: c.get("requestId"),
  clock: c.get("clock"),
});
