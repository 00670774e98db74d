import type { Context } from "hono";
import type { AppEnv } from "../env";
import { background } from "../http/background";
import type { ModuleDef, ModuleRuntime } from "./types";

/**
 * The module runtime of a request: what a kernel route hands the modules it calls (their sealed
 * fields, their personal data), over the request's env, config, log and clock; work it extends
 * past the response runs as the request's `background()`.
 */
export const requestRuntime = (c: Context<AppEnv>, modules: readonly ModuleDef[]): ModuleRuntime => ({
  env: c.env,
  modules,
  config: c.get("config"),
  log: c.get("log"),
  clock: c.get("clock"),
  waitUntil: (p) => background(c, p),
});
