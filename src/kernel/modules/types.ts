import type { Hono, Schema } from "hono";
import type { Authenticator, TenantLookup } from "../auth/types";
import type { Config } from "../config";
import type { AppEnv } from "../env";
import type { Decider, NewEvent } from "../events/decider";
import type { HealthCheck } from "../health/checks";
import type { Logger } from "../log";

/** What a queue subscriber or a job receives besides its input. */
export interface ModuleRuntime {
  env: Env;
  config: Config;
  log: Logger;
  /** Extends the invocation past the response, as `ctx.waitUntil`. */
  waitUntil(promise: Promise<unknown>): void;
}

/** An event as it travels on the `EVENTS` queue. */
export interface EventMessage {
  id: string;
  type: string;
  tenant_id: string;
  [field: string]: unknown;
}

/** Handles one delivered event. Throwing makes the message retry. */
export type EventSubscriber = (event: EventMessage, runtime: ModuleRuntime) => Promise<void>;

/** A periodic job, run by `scheduled()` when its cron fires. */
export interface JobDef {
  /** Unique within the module, e.g. `purge-expired`. */
  name: string;
  /** A cron expression that must also be listed under `[triggers] crons` in wrangler.toml. */
  cron: string;
  run(runtime: ModuleRuntime & { scheduledTime: number }): Promise<void>;
}

/**
 * A feature module: the whole of what it adds to the platform. A module is a
 * factory returning a plain object that `satisfies ModuleDef`; the kernel
 * never names a module.
 *
 * @example
 * export const hello = () => ({
 *   name: "hello",
 *   version: "1.0.0",
 *   depends_on: { system: "^1.0.0" },
 *   routes: helloRoutes, // mounted at /api/v1/hello
 * }) satisfies ModuleDef;
 */
export interface ModuleDef {
  /** Lower-case DNS-label style name, unique across the platform. */
  name: string;
  /** Semantic version of the module. */
  version: string;
  description?: string;
  /** Other modules this one needs, with semver ranges: `{ identity: "^1.2.0" }`. */
  depends_on?: Record<string, string>;
  /**
   * The module's HTTP routes: a sub-app made with `createRouter()`. Routes
   * declared with `.openapi(createRoute(…))` appear in `/openapi.json`.
   */
  routes?: Hono<AppEnv, Schema, string>;
  /**
   * Where `routes` mount, relative to `/api/v1`. Defaults to `/<name>`; `""`
   * mounts at `/api/v1` itself (for modules that own several top-level paths).
   */
  base_path?: string;
  /** Routes mounted at the origin's root, for well-known URLs (e.g. `/.well-known/jwks.json`). */
  root_routes?: Hono<AppEnv, Schema, string>;
  /** Permissions the module declares, `<module>.<resource>.<action>`. */
  permissions?: readonly string[];
  /** Event types this module publishes, and handlers for those it consumes. */
  events?: {
    publishes?: readonly string[];
    /** Keyed by event type; the key `"*"` receives every event type. */
    subscribes?: Readonly<Record<string, EventSubscriber>>;
  };
  jobs?: readonly JobDef[];
  /** What the module adds to the request path: credential verifiers, the tenant registry. */
  auth?: {
    authenticators?: readonly Authenticator[];
    /** At most one module provides the tenant lookup. */
    tenants?: TenantLookup;
  };
  /**
   * Event-sourced aggregates: pure deciders the generic Aggregate Durable
   * Object runs, one object per `<tenant>/<type>/<id>`.
   */
  aggregates?: readonly {
    decider: Decider<{ type: string }, NewEvent, unknown>;
    /** Snapshot the state every N events (default 50). */
    snapshot_every?: number;
  }[];
  /** Readiness checks added to `/readyz`. */
  health?: readonly HealthCheck[];
}
