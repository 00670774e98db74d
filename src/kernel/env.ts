import type { Config } from "./config";
import type { Logger } from "./log";

/** What the platform knows about itself, for `/api/v1/system/info` and logs. */
export interface PlatformInfo {
  version: string;
  commit: string;
  modules: { name: string; version: string }[];
}

/** Variables every handler finds on the Hono context. */
export interface AppVariables {
  requestId: string;
  config: Config;
  log: Logger;
  platform: PlatformInfo;
  /** Set by tenant resolution once it runs. */
  tenantId?: string;
  /** Set by authentication once it runs. */
  userId?: string;
}

/** The one Hono environment type of plinth. */
export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
