import type { MiddlewareHandler } from "hono";
import { loadConfig } from "../config";
import type { AppEnv, PlatformInfo } from "../env";
import { AppError } from "../errors";
import { createLogger, type Logger } from "../log";

/** Logger used before the config is known (and when it is broken). */
const bootLogger: Logger = createLogger("info");

/**
 * The one place that builds per-request services: parses the config (once per
 * isolate), and puts config, logger and platform info on the context. A bad
 * config fails the request with `config_invalid`, naming the variables (never
 * their values) in the response and in the log.
 */
export const init = (build: Omit<PlatformInfo, "commit">): MiddlewareHandler<AppEnv> =>
  async function init(c, next) {
    const result = loadConfig(c.env);
    if (!result.ok) {
      const names = [...new Set(result.issues.map((i) => i.variable))];
      bootLogger.error("config invalid", {
        request_id: c.var.requestId,
        variables: names,
        issues: result.issues,
      });
      throw new AppError("config_invalid", {
        detail: `the server's configuration is invalid: ${names.join(", ")}`,
      });
    }
    c.set("config", result.config);
    c.set("platform", { ...build, commit: result.config.gitCommit });
    c.set("log", createLogger(result.config.logLevel, { request_id: c.var.requestId }));
    await next();
  };

/** Returns the request's logger, or the boot logger before `init` ran. */
export function loggerOf(c: { var: Partial<{ log: Logger }> }): Logger {
  return c.var.log ?? bootLogger;
}
