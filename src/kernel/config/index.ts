import { z } from "zod";
import { signingKeysProblem } from "../auth/signing-keys";
import { masterKeysProblem } from "../crypto/envelope";
import type { BindingKind, EnvNeeds } from "../modules/types";
import {
  DEFAULT_POLICIES,
  type Policies,
  PolicyOverridesSchema,
  platformPolicies,
  unknownOverrides,
} from "../ratelimit/policies";
import { ReadModelEnvSchema, type ReadModelTarget, readModelTarget } from "../read-models/config";
import { type MailConfig, MailEnvSchema, mailConfig, providerHalfSet } from "./mail";
import { previousWithoutCurrent } from "./previous-secrets";
import { type TracingConfig, TracingEnvSchema, tracingConfig } from "./tracing";

const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** What each kind of binding is called in messages. */
const BINDING_NAMES: Record<BindingKind, string> = {
  d1: "D1",
  durable_object: "Durable Object namespace",
  queue: "Queue",
  r2: "R2",
  kv: "KV",
  service: "service",
};

/** Where each kind of binding is declared in wrangler.toml, for the fix a missing one's message gives. */
const BINDING_TABLES: Record<BindingKind, string> = {
  d1: "[[d1_databases]]",
  durable_object: "[[durable_objects.bindings]]",
  queue: "[[queues.producers]]",
  r2: "[[r2_buckets]]",
  kv: "[[kv_namespaces]]",
  service: "[[services]]",
};

/**
 * A missing binding and where to add it. Logged, never answered: the client is told the
 * binding's name only. The usual cause is a binding added at the top level of wrangler.toml
 * (which `npm start` and the tests read) and not to an `[env.*]` section, which inherits none.
 */
function missingBinding(kind: BindingKind): string {
  return `missing ${BINDING_NAMES[kind]} binding: add it as ${BINDING_TABLES[kind]} in wrangler.toml, at the top level and in every [env.*] section (bindings are not inherited), then run npm run types`;
}

/**
 * The bindings the kernel itself uses: the read-model database, the events
 * queue, the mail queue, the Aggregate Durable Object that runs modules'
 * deciders, the gateway's RateLimiter and IdempotencyStore objects, the
 * metrics aggregator, and the scheduler's JobRunner objects (one per job: its
 * lease and runs).
 * Modules declare theirs (`ModuleDef.bindings`).
 */
export const KERNEL_BINDINGS: Readonly<Record<string, BindingKind>> = {
  DB: "d1",
  EVENTS: "queue",
  MAIL: "queue",
  AGGREGATE: "durable_object",
  RATE_LIMITER: "durable_object",
  IDEMPOTENCY: "durable_object",
  METRICS: "durable_object",
  JOB_RUNNER: "durable_object",
};

/** What the kernel alone requires of the env: its bindings, no module variables and no module policies. */
export const KERNEL_NEEDS: EnvNeeds = { bindings: KERNEL_BINDINGS, variables: {}, ratePolicies: {} };

/**
 * The Worker's environment as plinth reads it. Parsed once per isolate and env
 * object; every later read goes through the typed {@link Config}.
 */
const ConfigSchema = z.object({
  ENVIRONMENT: z.enum(["development", "test", "staging", "production"], {
    error: (issue) => `must be ${issue.input === undefined ? "set: " : ""}development, test, staging or production`,
  }),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int("must be a whole number of bytes")
    .min(1024, "must be at least 1024")
    .max(100 * 1024 * 1024, "must be at most 104857600")
    .default(1024 * 1024),
  GIT_COMMIT: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be a commit id or 'unknown'")
    .default("unknown"),
  PLATFORM_DOMAIN: z
    .string()
    .regex(
      /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
      "must be a lower-case DNS name",
    )
    .optional(),
  PLATFORM_ROOT_KEY: z.string().min(32, "must be at least 32 characters").max(512).optional(),
  // The value being rotated out, accepted alongside the current one until removed (operations.md).
  PLATFORM_ROOT_KEY_PREVIOUS: z.string().min(32, "must be at least 32 characters").max(512).optional(),
  // Required: without it no token is signed. Said the way an operator sets it, not "expected string".
  JWT_SIGNING_KEYS: z
    .string({
      message:
        "must be set: the JSON array of signing keys (node scripts/jwt-keys.mjs | npx wrangler secret put JWT_SIGNING_KEYS)",
    })
    .min(1, "must hold the JSON array of signing keys (see scripts/jwt-keys.mjs)")
    .superRefine((secret, ctx) => {
      const problem = secret.length > 0 ? signingKeysProblem(secret) : undefined;
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  JWT_ISSUER: z.url({ message: "must be an absolute URL" }).optional(),
  RATE_LIMITS: z
    .string()
    .transform((v, ctx) => {
      try {
        const parsed: unknown = JSON.parse(v);
        return parsed;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON object of partial rate-limit policies" });
        return z.NEVER;
      }
    })
    .pipe(PolicyOverridesSchema)
    .optional(),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").max(512).optional(),
  METRICS_TOKEN_PREVIOUS: z.string().min(16, "must be at least 16 characters").max(512).optional(),
  IP_HASH_KEY: z.string().min(32, "must be at least 32 characters").max(512).optional(),
  METRICS_TENANTS: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}(,[A-Za-z0-9_-]{1,64}){0,49}$/, "must be up to 50 comma-separated tenant ids")
    .optional(),
  // Says which entry is wrong (a repeated version, a short key), never quoting the value.
  ENCRYPTION_KEYS: z
    .string()
    .superRefine((secret, ctx) => {
      const problem = masterKeysProblem(secret);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  ...TracingEnvSchema.shape,
  ...MailEnvSchema.shape,
  ...ReadModelEnvSchema.shape,
});

export type LogLevel = (typeof LOG_LEVELS)[number];

/** The typed configuration every handler reads from the context. */
export interface Config {
  environment: z.infer<typeof ConfigSchema>["ENVIRONMENT"];
  logLevel: LogLevel;
  maxBodyBytes: number;
  gitCommit: string;
  platformDomain: string | undefined;
  /**
   * The domain whose subdomains name tenants (`<slug>.<domain>`): PLATFORM_DOMAIN,
   * or `localhost` in development, so `http://<slug>.localhost:8787` works.
   */
  tenantDomain: string | undefined;
  /** The rate-limit policies: the kernel's and the registered modules' (`ModuleDef.rate_limits`), with RATE_LIMITS applied. */
  ratePolicies: Policies;
  /** Secret: compared in constant time, never logged. */
  platformRootKey: string | undefined;
  /**
   * Secret: the root key being rotated out (PLATFORM_ROOT_KEY_PREVIOUS), accepted where the
   * current one is until removed; it keys nothing (ip_hash stays on IP_HASH_KEY or the current key).
   */
  platformRootKeyPrevious: string | undefined;
  /** Secret: the JSON array of Ed25519 private JWKs, newest first. */
  jwtSigningKeys: string;
  /** `iss` of access tokens; defaults to https://PLATFORM_DOMAIN, else the request's origin (without a tenant label: issuerOf). */
  jwtIssuer: string | undefined;
  /** Secret: master keys of envelope encryption (see kernel/crypto/envelope.ts); optional until a module needs it. */
  encryptionKeys: string | undefined;
  /** Secret: the bearer token `GET /metrics` requires; open without one. */
  metricsToken: string | undefined;
  /** Secret: the metrics token being rotated out (METRICS_TOKEN_PREVIOUS), accepted alongside it. */
  metricsTokenPrevious: string | undefined;
  /**
   * Secret: the key of `ip_hash` (http/client-ip.ts); PLATFORM_ROOT_KEY when unset. Its own, so
   * rotating the root key after a leak keeps hashes of one address comparable across it.
   */
  ipHashKey: string | undefined;
  /** Tenants whose id labels their requests in /metrics (the rest are "other"), bounding cardinality. */
  metricsTenants: ReadonlySet<string>;
  /** OpenTelemetry export (OTEL_EXPORTER_OTLP_*); undefined when tracing is off. Holds a secret (headers). */
  tracing: TracingConfig | undefined;
  /** Mail: the provider (MAIL_API_*; holds a secret) and the retry schedule. See docs/notifications.md. */
  mail: MailConfig;
  /** Where read models live: D1 (`DB`), or libSQL (READ_MODEL_URL; holds a secret). See docs/read-models.md. */
  readModels: ReadModelTarget;
}

/** A variable that failed validation: its name and why, never its value. */
export interface ConfigIssue {
  variable: string;
  message: string;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] };

/** The variables the kernel reads; a module may not declare one of these names. */
export const KERNEL_VARIABLES: ReadonlySet<string> = new Set(Object.keys(ConfigSchema.shape));

/**
 * Parses the Worker env into a {@link Config}, checking that every binding in
 * `needs` (the kernel's and the registered modules') is there and that every
 * module variable passes its schema. Pure: no caching, no logging. Every bad
 * variable is reported, so one deploy fixes them all.
 */
export function parseConfig(env: Record<string, unknown>, needs: EnvNeeds = KERNEL_NEEDS): ConfigResult {
  const parsed = ConfigSchema.safeParse(env);
  // A binding is present when the runtime gave us an object for it.
  const issues: ConfigIssue[] = Object.entries(needs.bindings)
    .filter(([name]) => typeof env[name] !== "object" || env[name] === null)
    .map(([name, kind]) => ({ variable: name, message: missingBinding(kind) }));
  for (const [name, schema] of Object.entries(needs.variables)) {
    const checked = schema.safeParse(env[name]);
    // The module's schema words the message; like the kernel's, it names expectations, not inputs.
    if (!checked.success) issues.push({ variable: name, message: checked.error.issues[0]?.message ?? "is invalid" });
  }
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // Messages come from the schema above and name expectations, not inputs.
      issues.push({ variable: String(issue.path[0] ?? "(env)"), message: issue.message });
    }
  }
  // The checks across variables run on their own parts of the env whatever the rest says, so
  // one answer names every problem, not one group per fix and restart.
  const mailEnv = parsed.success ? parsed : MailEnvSchema.safeParse(env);
  const mail = mailEnv.success ? mailConfig(mailEnv.data) : undefined;
  if (mail && !mail.ok) issues.push(...mail.issues);
  // A provider variable that does not parse leaves the others' absence to be said from the raw env.
  if (!mailEnv.success) {
    issues.push(
      ...providerHalfSet({ MAIL_API_URL: env.MAIL_API_URL, MAIL_API_KEY: env.MAIL_API_KEY, MAIL_FROM: env.MAIL_FROM }),
    );
  }
  const readModelEnv = parsed.success ? parsed : ReadModelEnvSchema.safeParse(env);
  const readModels = readModelEnv.success ? readModelTarget(readModelEnv.data) : undefined;
  if (readModels && !readModels.ok) issues.push(...readModels.issues);
  issues.push(...previousWithoutCurrent(env));
  // Apart from the rest, as the checks above: a deploy checks [vars] with the secrets absent.
  const rateLimits = ConfigSchema.shape.RATE_LIMITS.safeParse(env.RATE_LIMITS);
  if (rateLimits.success && rateLimits.data && unknownOverrides(rateLimits.data, needs.ratePolicies)) {
    // Names the policies there are, not the one given: messages name expectations, never inputs.
    const names = [...Object.keys(DEFAULT_POLICIES), ...Object.keys(needs.ratePolicies)];
    issues.push({ variable: "RATE_LIMITS", message: `may name only these policies: ${names.join(", ")}` });
  }
  if (!parsed.success || !mail?.ok || !readModels?.ok || issues.length > 0) return { ok: false, issues };
  const e = parsed.data;
  return {
    ok: true,
    config: {
      environment: e.ENVIRONMENT,
      logLevel: e.LOG_LEVEL,
      maxBodyBytes: e.MAX_BODY_BYTES,
      gitCommit: e.GIT_COMMIT,
      platformDomain: e.PLATFORM_DOMAIN,
      tenantDomain: e.PLATFORM_DOMAIN ?? (e.ENVIRONMENT === "development" ? "localhost" : undefined),
      ratePolicies: platformPolicies(e.RATE_LIMITS, needs.ratePolicies),
      platformRootKey: e.PLATFORM_ROOT_KEY,
      platformRootKeyPrevious: e.PLATFORM_ROOT_KEY_PREVIOUS,
      jwtSigningKeys: e.JWT_SIGNING_KEYS,
      jwtIssuer: e.JWT_ISSUER ?? (e.PLATFORM_DOMAIN ? `https://${e.PLATFORM_DOMAIN}` : undefined),
      encryptionKeys: e.ENCRYPTION_KEYS,
      metricsToken: e.METRICS_TOKEN,
      metricsTokenPrevious: e.METRICS_TOKEN_PREVIOUS,
      ipHashKey: e.IP_HASH_KEY ?? e.PLATFORM_ROOT_KEY,
      metricsTenants: new Set(e.METRICS_TENANTS ? e.METRICS_TENANTS.split(",") : []),
      tracing: tracingConfig(e),
      mail: mail.mail,
      readModels: readModels.target,
    },
  };
}

// Per-isolate cache keyed by the env object and the needs: the runtime
// hands the same env to every request of an isolate, so parsing happens once.
const cache = new WeakMap<object, WeakMap<object, ConfigResult>>();

/** Where an env marked by {@link markOriginalEnv} keeps itself (not enumerable: spreads and entries skip it). */
const ORIGINAL_ENV = Symbol("plinth.original-env");

/**
 * Marks the runtime's env as the original behind any wrapper that reads the same and passes
 * unknown values through: tracing's Proxy (kernel/telemetry/instrument.ts) is made anew for
 * every invocation, so a cache keyed by it missed on every request, and spreading it wrapped
 * every binding on the way (a fifth of a traced request's CPU, profiled). An env that refuses
 * the mark (frozen) is keyed as it comes.
 */
export function markOriginalEnv(env: object): void {
  try {
    // Configurable: an env that is itself a Proxy (the test pool's) must be able to report it as it likes.
    if (!Object.hasOwn(env, ORIGINAL_ENV)) Object.defineProperty(env, ORIGINAL_ENV, { value: env, configurable: true });
  } catch {
    // An env that refuses new properties is keyed as it comes.
  }
}

/** The env behind `env`'s wrapper when the original was marked; `env` itself otherwise. */
function originalEnv(env: object): object {
  try {
    const original: unknown = Reflect.get(env, ORIGINAL_ENV);
    return typeof original === "object" && original !== null ? original : env;
  } catch {
    return env;
  }
}

/**
 * {@link parseConfig}, memoised per env object and needs. The config holds values, never
 * binding objects, so it is parsed from the original env behind a marked wrapper.
 *
 * `needs` is the platform's (`PlatformParts.needs`), wherever the config is loaded: the request
 * path, a queue batch, a job, a Durable Object built over the platform (an actor's mail, the
 * webhook endpoint's secrets). With other needs the same env is judged another way: a module's
 * variable unchecked, or `RATE_LIMITS` naming a module's policy refused here and taken there.
 */
export function loadConfig(env: Env, needs: EnvNeeds): ConfigResult {
  const original = originalEnv(env);
  let byNeeds = cache.get(original);
  if (!byNeeds) {
    byNeeds = new WeakMap();
    cache.set(original, byNeeds);
  }
  let result = byNeeds.get(needs);
  if (!result) {
    result = parseConfig({ ...original }, needs);
    byNeeds.set(needs, result);
  }
  return result;
}
