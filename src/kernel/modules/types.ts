import type { Table } from "drizzle-orm";
import type { Hono, Schema } from "hono";
import type { ZodType } from "zod";
import type { Authenticator, MemberLookup, TenantLookup, TenantSettingsLookup, UrlTenantProof } from "../auth/types";
import type { Clock } from "../clock";
import type { Config } from "../config";
import type { ResealOutcome, VersionCounts } from "../crypto/key-versions";
import type { TenantSeedSource } from "../crypto/tenant-envelope";
import type { AppEnv } from "../env";
import type { ErrorCodeSpec } from "../errors";
import type { AnyDecider } from "../events/decider";
import type { EventUnion } from "../events/envelope";
import type { HealthCheck } from "../health/checks";
import type { MigrationWatch } from "../health/pending-migrations";
import type { JobSummary } from "../jobs/contract";
import type { Logger } from "../log";
import type { Policy } from "../ratelimit/policies";
import type { MemberExport, PersonalData } from "./personal-data";
import type { Subscription } from "./subscription";

/** What a queue subscriber or a job receives besides its input. */
export interface ModuleRuntime {
  env: Env;
  config: Config;
  log: Logger;
  clock: Clock;
  /** The registered modules, in dependency order: for the kernel's lookups (`findTenant(runtime, id)`). */
  modules: readonly ModuleDef[];
  /**
   * Extends the invocation past the response, as `ctx.waitUntil`; a rejection is logged
   * (`background work failed`, with the invocation's fields), never handed to the runtime.
   */
  waitUntil(promise: Promise<unknown>): void;
}

export type { BatchOptions, BatchOutcome, RebuildPage, RebuildSource, Subscription } from "./subscription";

/** What a job's run receives: the module runtime, plus which fire time it is for. */
export interface JobRuntime extends ModuleRuntime {
  /**
   * The fire time this run is for, epoch ms: the time its cron fell due (a
   * manual run's is the time it was asked for). Decide "what is due" from it,
   * not from the clock: a retried attempt sees the same value.
   */
  scheduledTime: number;
  /** The fire time of the job's last successful run, epoch ms, or null: what "since the last run" means. */
  lastSuccess: number | null;
  /** 1 for the first attempt, then 2, 3 … as the job's retry policy allows. */
  attempt: number;
}

/** How a failed run is tried again: attempts in all, with full-jitter exponential backoff between them. */
export interface JobRetry {
  /** Attempts in all, the first included: 1–10 (1: no retry). */
  attempts: number;
  /** The first backoff ceiling, ms (default 1 000). */
  base_ms?: number;
  /** The largest backoff ceiling, ms (default 60 000). */
  max_ms?: number;
}

/**
 * A periodic job. The kernel looks for due jobs once a minute (the one
 * trigger in wrangler.toml) and runs each whose `cron` fired in that minute,
 * so any cron expression works without touching wrangler.toml. Each run holds
 * a lease (one run per fire time, never two at once, across isolates), is
 * retried per `retry`, logged, measured and recorded for
 * `GET /api/v1/platform/jobs`. Runs must be idempotent: a lease that runs
 * out makes room for the next fire time while a slow run may still go on.
 *
 * @example
 * const purge: JobDef = {
 *   name: "purge-drafts",
 *   cron: "17 3 * * *",                       // 03:17 UTC daily
 *   retry: { attempts: 3, base_ms: 5_000 },
 *   async run({ env, clock, log }) { … },
 * };
 */
export interface JobDef {
  /** Unique within the module, 1–63 chars of `a-z0-9-`, e.g. `purge-expired`; `<module>/<name>` names it elsewhere. */
  name: string;
  /** A five-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC. */
  cron: string;
  /** Retries of a failed run (default: none). */
  retry?: JobRetry;
  /**
   * How long a run may hold its lease, ms (default 15 minutes, the longest a
   * scheduled invocation lasts). No attempt starts after it; once it passes
   * unreported the run is recorded as lost and the next fire time may run.
   */
  lease_ms?: number;
  /**
   * How late a fire time may still run, ms (default 15 minutes; 0: only in
   * its own minute). A tick that never came (a deploy, a lost trigger) leaves
   * its fire time to the next tick within this window, which runs it once,
   * for the fire time it missed; a fire time older than that is skipped.
   */
  catch_up_ms?: number;
  /**
   * Does the job's work. What it resolves to, if anything, is the run's result: a small summary
   * of what it found or did (counts, not data; at most `RESULT_CHARS` of JSON), recorded with the
   * run and shown by `plinth jobs run` and the job list, so an operator need not read the logs.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: most jobs report nothing, and an `async run() {}` resolves to void.
  run(runtime: JobRuntime): Promise<JobSummary | void>;
}

/**
 * The values a module keeps sealed with the tenant envelope (kernel/crypto/envelope.ts),
 * declared so an operator can retire an `ENCRYPTION_KEYS` version: the kernel's
 * `/api/v1/platform/crypto` operations (`plinth crypto`) call every module that declares
 * one, for a tenant at a time, and never name a module.
 *
 * @example
 * sealed: {
 *   kinds: ["notes.api_token"],
 *   versions: async (tenantId, rt) => countVersions(await notes(rt.env, tenantId).sealed({}), ["notes.api_token"]),
 *   reencrypt: async (tenantId, rt) => …, // read, resealStale(), then the writer swaps each one still unchanged
 * }
 */
export interface SealedFields {
  /**
   * The field kinds it stores sealed, each `<module>.<field>`; listed in the report even with no
   * value. A field is `<kind>/<record id>`: the envelope seals no field whose kind (its name up to
   * the first `/`) this or `transient` does not list (kernel/crypto/sealed-kinds.ts).
   */
  kinds: readonly string[];
  /**
   * The field kinds it seals but never stores (a value opened within minutes and then gone, as
   * identity's SSO `state`): the envelope seals them; `versions` and `reencrypt` have none to
   * count or re-seal, so a key version retired meanwhile fails the ones in flight.
   */
  transient?: readonly string[];
  /** How many of the tenant's values each key version seals, by kind (reads only; no key needed). */
  versions(tenantId: string, runtime: ModuleRuntime): Promise<VersionCounts>;
  /**
   * Re-seals every value of the tenant sealed under an older version, under the current one.
   * Each value is replaced by the single writer that owns it, in its own transaction, and
   * only if it still holds what was read (a value changed meanwhile is kept and counted as
   * `raced`). Idempotent: a second run finds nothing stale. Needs `runtime.config.encryptionKeys`.
   */
  reencrypt(tenantId: string, runtime: ModuleRuntime): Promise<ResealOutcome>;
}

/**
 * How a module forgets a tenant its operator deleted (GDPR erasure, contract end). The
 * kernel's erasure (kernel/erasure) calls every module that declares it and never names
 * one: first each `shred` (destroying key material makes every sealed value and sealed
 * event field unreadable at once: the point of no return), then each `erase`, dependents
 * before what they depend on, then it deletes the tenant's rows from every declared D1 /
 * read-model table with a `tenant_id` column and from the kernel's own. So a module's
 * `erase` is for what the kernel cannot see: its Durable Objects' storage (`...EraseRpc`
 * in the contract, kernel/durable/erase.ts), R2 objects, outside systems. Each must be
 * idempotent: a run that dies half way runs again from the first step not recorded done.
 * Example: `erasure: { erase: async (id, rt) => void (await notes(rt.env, id).eraseAll({ tenant_id: id })) }`
 */
export interface TenantErasure {
  /** Destroys the tenant's key material; runs before any module's `erase`. */
  shred?(tenantId: string, runtime: ModuleRuntime): Promise<void>;
  /** Deletes the tenant's data this module keeps outside the declared tables; safe to run again. */
  erase?(tenantId: string, runtime: ModuleRuntime): Promise<void>;
}

/** What the Worker's entry points (fetch, queue, scheduled) share of the composed platform. */
export interface PlatformParts {
  /** The registered modules, in dependency order. */
  modules: readonly ModuleDef[];
  /** Every binding and module variable the config check requires (kernel/config). */
  needs: EnvNeeds;
  clock: Clock;
  /**
   * What this isolate knows of the D1 migrations this build ships and D1 lacks
   * (kernel/health/pending-migrations); the queue consumer holds a projection that failed
   * on a missing table or column while one is pending. Absent in tests that build parts by hand.
   */
  schema?: MigrationWatch;
}

/**
 * What the config check requires of the Worker env besides the kernel's own variables: the
 * bindings by kind, and the modules' variables with the schema each must pass.
 */
export interface EnvNeeds {
  bindings: Readonly<Record<string, BindingKind>>;
  variables: Readonly<Record<string, ZodType>>;
  /**
   * The registered modules' rate-limit policies (`rate_limits`), which `RATE_LIMITS` may name
   * besides the kernel's; any other name is refused. Every caller loads the config with the
   * platform's needs (a Durable Object too: it is built over the platform), so no caller judges
   * a module's name otherwise.
   */
  ratePolicies: Readonly<Record<string, Policy>>;
}

/** The kinds of binding a module can require; checked when the config is loaded. */
export type BindingKind = "d1" | "durable_object" | "queue" | "r2" | "kv" | "service";

/**
 * A feature module: the whole of what it adds to the platform. A module is a
 * factory returning a plain object that `satisfies ModuleDef`; the kernel
 * never names a module. See docs/modules.md.
 *
 * @example
 * export const hello = () => ({
 *   ...manifest,          // name, version, depends_on, permissions
 *   errors: helloErrors,
 *   routes: helloRoutes,  // mounted at /api/v1/hello
 * }) satisfies ModuleDef;
 */
export interface ModuleDef {
  /** Lower-case DNS-label style name, unique across the platform. */
  name: string;
  /** Semantic version of the module. */
  version: string;
  description?: string;
  /** Other modules this one needs, with semver ranges: `{ identity: "^1.2.0" }`. */
  depends_on?: Readonly<Record<string, string>>;
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
  /**
   * Its own rate-limit policies, by name `<module>.<name>`, each a whole policy as the kernel's
   * (kernel/ratelimit/policies.ts): `{ "tickets.open": { limit: 20, period_s: 3600, burst: 5,
   * mode: "sync", on_failure: "closed", tenant_override: true, max_limit: 100 } }`. Its routes
   * charge them with `enforce(c, "tickets.open", key)`; `RATE_LIMITS` and (with
   * `tenant_override`) a tenant's settings change them as they do the kernel's. See docs/modules.md.
   */
  rate_limits?: Readonly<Record<string, Policy>>;
  /** Permissions the module declares, `<module>.<resource>.<action>`. */
  permissions?: readonly string[];
  /**
   * Its own permissions that a default role of every new tenant holds, by role name:
   * `{ member: ["orders.order.create", "orders.order.read"] }`. The module that provides the
   * default roles (`auth.roles`) adds them when it creates a tenant's roles; a tenant that
   * exists already keeps its roles as they are (its admin changes them with the roles API).
   */
  grants?: Readonly<Record<string, readonly string[]>>;
  /**
   * Who may follow its events (a webhook endpoint's filters), by event-type pattern (an exact
   * type, a prefix ending in `.*`, or `*`): the permission of its own that reads those facts
   * through the API, `{ "orders.*": "orders.order.read" }`. An endpoint's filters may match
   * only types whose most specific pattern (over every module) names a permission the caller
   * holds; a type no pattern matches needs none. A pattern other than `*` matches only the
   * module's own types; `*` is the rule for every type no other pattern covers (the audit log,
   * which shows every event). See docs/modules.md, "Events, subscriptions and projections".
   */
  event_read?: Readonly<Record<string, string>>;
  /** The module's own error codes (code → status and title), distinct per case; part of the public contract. */
  errors?: Readonly<Record<string, ErrorCodeSpec>>;
  /** The drizzle tables of its D1 read models (migrations are generated from `read-model.ts`). */
  tables?: Readonly<Record<string, Table>>;
  /** The events it publishes (a discriminated union of `{ type, data }`), and what it consumes. */
  events?: { publishes?: EventUnion; subscribes?: readonly Subscription[] };
  jobs?: readonly JobDef[];
  /** The values it seals with the tenant envelope, for re-encryption and the key-versions report. */
  sealed?: SealedFields;
  /** How it forgets a deleted tenant's data (its tables' `tenant_id` rows the kernel deletes itself). */
  erasure?: TenantErasure;
  /** What it holds about one user, for their export (`GET /api/v1/me/export`); without it, nothing. */
  personal_data?: PersonalData;
  /** Its Durable Object bindings holding no tenant's data, each with why: no `erasure` needed (object-erasure.ts). */
  tenant_free_objects?: Readonly<Record<string, string>>;
  /** What the module adds to the request path: credential verifiers, the tenant registry. */
  auth?: {
    authenticators?: readonly Authenticator[];
    /** At most one module provides the tenant lookup. */
    tenants?: TenantLookup;
    /** At most one module provides the member lookup other modules ask with `findMember` (kernel/auth/member-directory.ts). */
    members?: MemberLookup;
    /** At most one module provides tenant settings (CORS origins, rate-limit overrides). */
    settings?: TenantSettingsLookup;
    /**
     * Tenants its URLs prove without a credential (a signed download URL), for a CORS
     * preflight on a host that names no tenant: see `UrlTenantProof`.
     */
    url_tenants?: readonly UrlTenantProof[];
    /** At most one module provides the default roles every tenant starts with, by name: what `grants` may name. */
    roles?: readonly string[];
    /** At most one module rules an administrator's export of a member (`GET /api/v1/users/{id}/export`). */
    member_export?: MemberExport;
    /**
     * At most one module keeps each tenant's envelope seed: what every module's sealing goes
     * through (`tenantEnvelopeOf`, kernel/crypto/tenant-envelope.ts), naming no module.
     */
    tenant_seeds?: TenantSeedSource;
  };
  /**
   * Event-sourced aggregates: pure deciders the kernel's Aggregate Durable
   * Object runs, one object per `<tenant>/<type>/<id>`.
   */
  aggregates?: readonly {
    decider: AnyDecider;
    /** Snapshot the state every N events (default 50). */
    snapshot_every?: number;
  }[];
  /** Readiness checks added to `/readyz`. */
  health?: readonly HealthCheck[];
  /** Worker bindings the module uses, by name; a missing one is `config_invalid` naming it. */
  bindings?: Readonly<Record<string, BindingKind>>;
  /**
   * The module's own Worker variables (`[vars]` or secrets), by upper-case name, each with the
   * schema its value must pass (`undefined` when unset, so an optional one says `.optional()`
   * or `.default()`). The config check that answers every request runs them with the kernel's:
   * one that does not parse is `config_invalid` naming it, never its value. The module reads
   * the value through the same schema.
   */
  variables?: Readonly<Record<string, ZodType>>;
}
