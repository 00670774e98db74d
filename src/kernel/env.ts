import type { MemberLookup, Principal, Tenant, TenantGateway, TenantLookup } from "./auth/types";
import type { Clock } from "./clock";
import type { Config } from "./config";
import type { SealedKinds } from "./crypto/sealed-kinds";
import type { TenantSeedSource } from "./crypto/tenant-envelope";
import type { Logger } from "./log";
import type { EventReadRules } from "./modules/event-read";
import type { RoleGrants } from "./modules/grants";
import type { Resolver } from "./outbound/resolve";
import type { LimitDecision } from "./ratelimit/limiter";
import type { Sleeper } from "./resilience/sleep";

/** What the platform knows about itself, for `/api/v1/system/info` and logs. */
export interface PlatformInfo {
  version: string;
  commit: string;
  modules: { name: string; version: string }[];
  /** Every permission the registered modules declare, sorted. */
  permissions: string[];
  /** Every event type the kernel and the registered modules publish, sorted. */
  events: string[];
  /** The permissions modules add to the default roles of a new tenant (`ModuleDef.grants`), by role. */
  grants: RoleGrants;
  /** Who may follow which events: every module's `event_read`, merged (modules/event-read.ts). */
  event_read: EventReadRules;
}

/** Variables every handler finds on the Hono context. */
export interface AppVariables {
  requestId: string;
  config: Config;
  log: Logger;
  /** The platform's clock: every time a handler records or compares comes from it. */
  clock: Clock;
  /**
   * The platform's waits and timeouts (kernel/resilience/sleep): the real timers unless a test
   * brings a `manualTime`'s, so a pause or a timeout ends when the test moves time.
   */
  sleeper: Sleeper;
  /**
   * The DNS the outbound guard asks before it fetches a host a tenant named (an identity
   * provider): the platform's, DNS over HTTPS unless a test brings its own.
   */
  resolver: Resolver;
  platform: PlatformInfo;
  /**
   * The tenant registry (the module that provides it), for a route that learns its tenant
   * other than through the request path's resolution (a signed URL's own tenant parameter)
   * and must refuse a suspended or deleted one as that path does (kernel/auth/guards.ts,
   * `refuseUnavailableTenant`). Absent when no module provides a registry.
   */
  tenantLookup?: TenantLookup;
  /** The member directory (the module that provides it), for `memberOf(c, userId)` (kernel/auth/member-directory.ts); absent without one. */
  memberLookup?: MemberLookup;
  /** Where tenants' envelope seeds are kept (the module that provides them), for `tenantEnvelopeOfRequest(c)`. */
  tenantSeeds?: TenantSeedSource;
  /** The kinds of field the modules declare they seal: all `tenantEnvelopeOfRequest(c)` seals. */
  sealedKinds: SealedKinds;
  /** The resolved tenant, when the request names one. */
  tenant?: Tenant;
  /** The authenticated caller, when the request carries a credential. */
  principal?: Principal;
  /** The tenant's gateway settings (CORS origins, rate-limit overrides), once loaded. */
  tenantGateway?: TenantGateway;
  /** The rate-limit decisions made for this request, for the RateLimit headers. */
  rateLimits?: LimitDecision[];
  /** The module that owns the matched route (`kernel` for the kernel's own), set by `observe` before any handler. */
  module?: string;
  /** Log fields: the tenant's and the user's ids once resolved. */
  tenantId?: string;
  userId?: string;
}

/** The one Hono environment type of plinth. */
export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
