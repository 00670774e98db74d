import type { MiddlewareHandler } from "hono";
import type { MemberLookup, TenantLookup } from "../auth/types";
import type { Clock } from "../clock";
import { loadConfig } from "../config";
import type { SealedKinds } from "../crypto/sealed-kinds";
import type { TenantSeedSource } from "../crypto/tenant-envelope";
import type { AppEnv, PlatformInfo } from "../env";
import { AppError } from "../errors";
import { createLogger, type Logger } from "../log";
import type { EnvNeeds } from "../modules/types";
import type { Resolver } from "../outbound/resolve";
import type { Sleeper } from "../resilience/sleep";

/** Logger used before the config is known (and when it is broken). */
const bootLogger: Logger = createLogger("info");

/** What `init` puts on every request besides the config. */
export interface InitOptions {
  build: Omit<PlatformInfo, "commit">;
  /** The bindings and module variables the config check requires. */
  needs: EnvNeeds;
  clock: Clock;
  /** What the platform's waits and timeouts sleep on (kernel/resilience/sleep). */
  sleeper: Sleeper;
  /** The DNS outbound requests to tenant-named hosts ask (kernel/outbound). */
  resolver: Resolver;
  /** The tenant registry a module provides, if one does. */
  tenants?: TenantLookup;
  /** The member directory a module provides, if one does. */
  members?: MemberLookup;
  /** The tenant seed source a module provides, if one does (kernel/crypto/tenant-envelope.ts). */
  seeds?: TenantSeedSource;
  /** The kinds of field the modules declare they seal (kernel/crypto/sealed-kinds.ts). */
  sealedKinds: SealedKinds;
}

/**
 * The one place that builds per-request services: parses the config (once per
 * isolate), and puts config, clock, sleeper, resolver, logger, platform info, the tenant
 * registry, the member directory, the tenant seed source and the declared sealed kinds on the context.
 * A bad config fails the request with `config_invalid`, naming the variables
 * (never their values) in the response and in the log.
 */
export const init = ({
  build,
  needs,
  clock,
  sleeper,
  resolver,
  tenants,
  members,
  seeds,
  sealedKinds,
}: InitOptions): MiddlewareHandler<AppEnv> =>
  async function init(c, next) {
    const result = loadConfig(c.env, needs);
    if (!result.ok) {
      const names = [...new Set(result.issues.map((i) => i.variable))];
      bootLogger.error("config invalid", {
        request_id: c.get("requestId"),
        variables: names,
        issues: result.issues,
      });
      throw new AppError("config_invalid", {
        detail: `the server's configuration is invalid: ${names.join(", ")}`,
      });
    }
    c.set("config", result.config);
    c.set("clock", clock);
    // The same object on every request, as the clock: one more entry on the context, nothing built.
    c.set("sleeper", sleeper);
    c.set("resolver", resolver);
    if (tenants) c.set("tenantLookup", tenants);
    if (members) c.set("memberLookup", members);
    if (seeds) c.set("tenantSeeds", seeds);
    c.set("sealedKinds", sealedKinds);
    c.set("platform", { ...build, commit: result.config.gitCommit });
    c.set("log", createLogger(result.config.logLevel, { request_id: c.get("requestId") }));
    await next();
  };

/** Returns the request's logger, or the boot logger before `init` ran. */
export function loggerOf(c: { get(key: "log"): Logger | undefined }): Logger {
  return c.get("log") ?? bootLogger;
}
