// What `npm run deploy` checks before it touches Cloudflare (scripts/deploy.mjs): the
// mistakes that otherwise surface only after the migrations ran or the Worker was
// uploaded (a placeholder D1 id, an environment without a route, a Worker without its
// signing keys, which then answers every request with 500 config_invalid).

import { domainChecks } from "./deploy-domain.mjs";
import { migrationProblems } from "./deploy-objects.mjs";

/** wrangler.toml's placeholder D1 ids (`00000000-0000-4000-8000-00000000000N`): not a database. */
const PLACEHOLDER_D1_ID = /^00000000-0000-4000-8000-0000000000\d\d$/;

/** Flags that say which Worker and config: they go to every wrangler command. */
const TARGET_FLAGS = new Set(["--env", "-e", "--config", "-c"]);

/**
 * Splits `npm run deploy -- …` arguments: the environment and config (for every wrangler
 * command), `--dry-run`, and the rest (for `wrangler deploy` alone: `d1 migrations apply`
 * refuses flags it does not know, such as `--minify` or `--keep-vars`).
 * @param {string[]} argv
 * @returns {{ env: string | undefined, config: string | undefined, dryRun: boolean, target: string[], rest: string[] }}
 */
export function deployArgs(argv) {
  let env;
  let config;
  let dryRun = false;
  const target = [];
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (arg === "--dry-run") {
      dryRun = true;
    } else if (TARGET_FLAGS.has(flag)) {
      const value = flag === arg ? argv[++i] : arg.slice(eq + 1);
      if (flag === "--env" || flag === "-e") env = value;
      else config = value;
      target.push(flag, value ?? "");
    } else {
      rest.push(arg);
    }
  }
  return { env, config, dryRun, target, rest };
}

/**
 * @typedef {{ binding: string }} Named
 * @typedef {{ durable_objects?: { bindings?: { name: string }[] }, r2_buckets?: Named[], kv_namespaces?: Named[], queues?: { producers?: { binding: string, queue?: string }[], consumers?: { queue: string, dead_letter_queue?: string }[] }, d1_databases?: { binding: string, database_name?: string, database_id?: string }[], services?: Named[], hyperdrive?: Named[], analytics_engine_datasets?: Named[], vectorize?: Named[], workflows?: Named[], dispatch_namespaces?: Named[], mtls_certificates?: Named[], send_email?: { name: string }[], ai?: Named, browser?: Named }} Bindings
 */

/** The bindings of a table of them (`[[<table>]]`), by name. */
const listed = (entries) => (entries ?? []).map((b) => b.binding);

/**
 * Each kind of binding: what messages call it, its table in wrangler.toml (`one`: a single
 * `[<table>]`, not an array of them), and the names a resolved config binds.
 * @type {{ what: string, table: string, one?: boolean, names: (config: Bindings) => string[] }[]}
 */
const BINDING_KINDS = [
  {
    what: "Durable Object binding",
    table: "durable_objects.bindings",
    names: (c) => (c.durable_objects?.bindings ?? []).map((b) => b.name),
  },
  { what: "D1 binding", table: "d1_databases", names: (c) => listed(c.d1_databases) },
  { what: "R2 bucket binding", table: "r2_buckets", names: (c) => listed(c.r2_buckets) },
  { what: "queue producer binding", table: "queues.producers", names: (c) => listed(c.queues?.producers) },
  { what: "KV namespace binding", table: "kv_namespaces", names: (c) => listed(c.kv_namespaces) },
  { what: "service binding", table: "services", names: (c) => listed(c.services) },
  { what: "Hyperdrive binding", table: "hyperdrive", names: (c) => listed(c.hyperdrive) },
  {
    what: "Analytics Engine dataset binding",
    table: "analytics_engine_datasets",
    names: (c) => listed(c.analytics_engine_datasets),
  },
  { what: "Vectorize index binding", table: "vectorize", names: (c) => listed(c.vectorize) },
  { what: "Workflow binding", table: "workflows", names: (c) => listed(c.workflows) },
  { what: "dispatch namespace binding", table: "dispatch_namespaces", names: (c) => listed(c.dispatch_namespaces) },
  { what: "mTLS certificate binding", table: "mtls_certificates", names: (c) => listed(c.mtls_certificates) },
  { what: "send_email binding", table: "send_email", names: (c) => (c.send_email ?? []).map((b) => b.name) },
  { what: "Workers AI binding", table: "ai", one: true, names: (c) => (c.ai ? [c.ai.binding] : []) },
  {
    what: "Browser Rendering binding",
    table: "browser",
    one: true,
    names: (c) => (c.browser ? [c.browser.binding] : []),
  },
];

/**
 * The queues an environment produces to and does not consume, where the top level consumes
 * the queue its producer of the same binding sends to (the Worker's own queue, as plinth's
 * events and mail are), and likewise their dead-letter queues. Consumers are not inherited
 * either, and a missing one deploys fine: the messages only pile up unread.
 * @param {Bindings} config
 * @param {string} env
 * @param {Bindings} top
 * @returns {string[]}
 */
function consumerProblems(config, env, top) {
  const problems = [];
  const topConsumers = new Map((top.queues?.consumers ?? []).map((c) => [c.queue, c]));
  const consumers = new Map((config.queues?.consumers ?? []).map((c) => [c.queue, c]));
  const hint = `consumers are not inherited, so copy the top level's into [[env.${env}.queues.consumers]] with this environment's queue names (docs/operations.md, "Deploys, upgrades, rollback")`;
  for (const producer of top.queues?.producers ?? []) {
    const own = producer.queue === undefined ? undefined : topConsumers.get(producer.queue);
    const mine = (config.queues?.producers ?? []).find((p) => p.binding === producer.binding);
    // Not the Worker's own queue, or no producer here (named above as a missing binding).
    if (!own || mine?.queue === undefined) continue;
    const consumer = consumers.get(mine.queue);
    if (!consumer) {
      problems.push(
        `[env.${env}] does not consume queue ${mine.queue} (binding ${producer.binding}), which it produces to and the top level consumes as ${producer.queue}: ${hint}`,
      );
      continue;
    }
    const dead = consumer.dead_letter_queue;
    if (own.dead_letter_queue !== undefined && topConsumers.has(own.dead_letter_queue)) {
      // Without one, a message that fails its retries is deleted: the dead-letter store never sees it.
      if (dead === undefined) {
        problems.push(
          `[env.${env}] consumes queue ${mine.queue} with no dead-letter queue, where the top level's goes to ${own.dead_letter_queue}: messages that fail every retry would be dropped, not stored; ${hint}`,
        );
      } else if (!consumers.has(dead)) {
        problems.push(
          `[env.${env}] does not consume queue ${dead}, the dead-letter queue of ${mine.queue}, as the top level consumes ${own.dead_letter_queue}: ${hint}`,
        );
      }
    }
  }
  return problems;
}

/**
 * The problems of an environment's resolved wrangler config (wrangler's `unstable_readConfig`)
 * that would make the deploy fail half-way or leave a Worker nobody can reach.
 * @param {Bindings & { name?: string, workers_dev?: boolean, routes?: unknown[], route?: unknown, vars?: Record<string, unknown> }} config
 * @param {string} env
 * @param {Bindings} [top] the top-level config (read without an environment): what `npm start` and the tests bind
 * @returns {string[]}
 */
export function configProblems(config, env, top = {}) {
  const problems = [];
  // Bindings are not inherited by an [env.*] section: one added at the top level only works
  // under npm start and in the tests, and the deployed Worker then answers every request
  // 500 config_invalid for the module that declares it.
  for (const kind of BINDING_KINDS) {
    const have = new Set(kind.names(config));
    for (const name of kind.names(top).filter((n) => !have.has(n))) {
      const table = kind.one ? `[env.${env}.${kind.table}]` : `[[env.${env}.${kind.table}]]`;
      problems.push(
        `[env.${env}] has no ${kind.what} ${name}, which the top level binds: bindings are not inherited, so copy its entry into ${table} (docs/operations.md, "Deploys, upgrades, rollback")`,
      );
    }
  }
  problems.push(...consumerProblems(config, env, top));
  for (const db of config.d1_databases ?? []) {
    if (!db.database_id || PLACEHOLDER_D1_ID.test(db.database_id)) {
      problems.push(
        `[env.${env}] D1 binding ${db.binding}: database_id is the placeholder; run \`npx wrangler d1 create ${db.database_name ?? "<name>"}\` and put the id it prints in wrangler.toml`,
      );
    }
  }
  const environment = config.vars?.ENVIRONMENT;
  if (environment !== "staging" && environment !== "production") {
    problems.push(
      `[env.${env}] vars.ENVIRONMENT is ${JSON.stringify(environment)}: a deployed Worker must be "staging" or "production" (development turns on the dev mailbox and loopback URLs)`,
    );
  }
  problems.push(...migrationProblems(config, env));
  // A value in [vars] is committed with wrangler.toml and shown in the dashboard: named, never quoted.
  for (const name of SECRET_NAMES.filter((n) => config.vars?.[n] !== undefined)) {
    problems.push(
      `${name} is in [env.${env}.vars]: a secret there is committed with wrangler.toml and shown in the dashboard; remove it, rotate it (it has leaked), and set it with \`npx wrangler secret put ${name} --env ${env}\` (docs/configuration.md, "Secrets")`,
    );
  }
  // The kernel runs each job at its own cron from a one-minute tick (src/kernel/jobs/scheduled.ts).
  if (!(config.triggers?.crons ?? []).includes(EVERY_MINUTE)) {
    problems.push(
      `[env.${env}] triggers.crons lacks "${EVERY_MINUTE}": the jobs (erasure, outbox, audit checkpoints…) run from a one-minute tick, each at its own cron, so without it they miss their runs; set crons = ["${EVERY_MINUTE}"] (docs/operations.md, "Jobs (cron)")`,
    );
  }
  const [url, from] = [config.vars?.MAIL_API_URL, config.vars?.MAIL_FROM];
  if ((url === undefined) !== (from === undefined)) {
    const [set, unset] = url === undefined ? ["MAIL_FROM", "MAIL_API_URL"] : ["MAIL_API_URL", "MAIL_FROM"];
    problems.push(
      `[env.${env}.vars] sets ${set} without ${unset}: the mail provider's variables go together (with the secret MAIL_API_KEY), else every request answers 500 config_invalid (docs/notifications.md)`,
    );
  }
  problems.push(...domainChecks(config, env).problems);
  const routed = (config.routes?.length ?? 0) > 0 || config.route !== undefined;
  if (config.workers_dev === false && !routed) {
    problems.push(
      `[env.${env}] workers_dev = false and no routes: the Worker would answer nowhere; add routes for PLATFORM_DOMAIN and its tenant subdomains (docs/configuration.md, "Domains")`,
    );
  }
  return problems;
}

/**
 * What an environment's resolved config deploys but should not go unnoticed: none of these
 * stop the deploy.
 * @param {{ routes?: unknown[], route?: unknown, vars?: Record<string, unknown> }} config
 * @param {string} env
 * @returns {string[]}
 */
export function configWarnings(config, env) {
  return domainChecks(config, env).warnings;
}

/** The one cron trigger the scheduler needs. */
const EVERY_MINUTE = "* * * * *";

/** Every secret plinth reads (docs/configuration.md, "Secrets"): none belongs in [vars]. */
export const SECRET_NAMES = [
  "PLATFORM_ROOT_KEY",
  "PLATFORM_ROOT_KEY_PREVIOUS",
  "JWT_SIGNING_KEYS",
  "ENCRYPTION_KEYS",
  "MAIL_API_KEY",
  "READ_MODEL_AUTH_TOKEN",
  "METRICS_TOKEN",
  "METRICS_TOKEN_PREVIOUS",
  "IP_HASH_KEY",
  "OTEL_EXPORTER_OTLP_HEADERS",
];

/** Secrets without which every request answers 500 config_invalid. */
const REQUIRED_SECRETS = ["JWT_SIGNING_KEYS"];

/** Secrets a production deploy should have, and what goes missing without each. */
const EXPECTED_SECRETS = {
  PLATFORM_ROOT_KEY: "/api/v1/platform (creating tenants) refuses every request",
  ENCRYPTION_KEYS:
    "webhooks, two-factor authentication, single sign-on and signed file URLs answer 503 unavailable, and /readyz fails its mail check",
  METRICS_TOKEN: "GET /metrics answers 401 to every scrape (it is closed in staging and production without it)",
  IP_HASH_KEY:
    'ip_hash (audit, sessions), idempotency fingerprints and mail recipient digests are keyed by PLATFORM_ROOT_KEY, so rotating the root key changes them all (an account deletion then misses the mail dead letters stored before), and the root key\'s holder can reverse the ip_hash values; set it now, since setting it later changes every hash once (docs/operations.md, "Rotating keys")',
};

/** What IP_HASH_KEY's absence means when PLATFORM_ROOT_KEY, its stand-in, is missing too. */
const UNKEYED =
  "nor PLATFORM_ROOT_KEY: no ip_hash is recorded, idempotency fingerprints are unkeyed (a stored body's password can be tried against them offline), and a deleted account's late mail is not held back (docs/notifications.md)";

/** The mail provider's variables: all three or none, else config_invalid (MAIL_API_KEY is the secret). */
const MAIL_PROVIDER = ["MAIL_API_URL", "MAIL_API_KEY", "MAIL_FROM"];

/** Secrets whose value being rotated out may be kept as `<name>_PREVIOUS` meanwhile. */
const ROTATED_SECRETS = ["PLATFORM_ROOT_KEY", "METRICS_TOKEN"];

/**
 * What the Worker's secret names (`wrangler secret list --format json`) lack, with the
 * environment's [vars] for the variables that go with a secret (a value may be either).
 * @param {string[]} names
 * @param {Record<string, unknown>} [vars] the environment's resolved [vars]
 * @returns {{ errors: string[], warnings: string[] }}
 */
export function secretProblems(names, vars = {}) {
  const have = new Set([
    ...names,
    ...Object.keys(vars).filter((name) => vars[name] !== undefined && vars[name] !== ""),
  ]);
  const errors = REQUIRED_SECRETS.filter((name) => !have.has(name)).map(
    (name) =>
      `secret ${name} is not set: every request would answer 500 config_invalid (docs/configuration.md, "Secrets")`,
  );
  const warnings = Object.entries(EXPECTED_SECRETS)
    .filter(([name]) => !have.has(name))
    .map(([name, what]) =>
      name === "IP_HASH_KEY" && !have.has("PLATFORM_ROOT_KEY")
        ? `secret ${name} is not set, ${UNKEYED}`
        : `secret ${name} is not set: ${what}`,
    );
  // A rotation's overlap (docs/operations.md, "Rotating keys"): alone it is config_invalid; with
  // the current value a reminder, since the old value keeps working until it is deleted.
  for (const name of ROTATED_SECRETS) {
    if (!have.has(`${name}_PREVIOUS`)) continue;
    if (!have.has(name))
      errors.push(
        `secret ${name}_PREVIOUS is set without ${name}: every request would answer 500 config_invalid; put ${name} or delete ${name}_PREVIOUS`,
      );
    else
      warnings.push(
        `secret ${name}_PREVIOUS is still set: the old value keeps working; delete it (npx wrangler secret delete ${name}_PREVIOUS) once plinth_previous_secret_uses_total{variable="${name}_PREVIOUS"} stops growing`,
      );
  }
  const mailSet = MAIL_PROVIDER.filter((name) => have.has(name));
  if (mailSet.length === 0) {
    warnings.push(
      "no mail provider (MAIL_API_URL, MAIL_API_KEY, MAIL_FROM): mail is never sent (sign-up, password resets, invitations wait, then are dead-lettered) and /readyz answers 503 on its mail check (docs/notifications.md)",
    );
  } else if (mailSet.length < MAIL_PROVIDER.length) {
    const missing = MAIL_PROVIDER.filter((name) => !have.has(name));
    errors.push(
      `${mailSet.join(", ")} ${mailSet.length === 1 ? "is" : "are"} set without ${missing.join(", ")}: every request would answer 500 config_invalid; the mail provider's three go together (MAIL_API_KEY a secret, the others in [vars]; docs/notifications.md)`,
    );
  }
  if (have.has("READ_MODEL_AUTH_TOKEN") && !have.has("READ_MODEL_URL")) {
    errors.push(
      "READ_MODEL_AUTH_TOKEN is set without READ_MODEL_URL: every request would answer 500 config_invalid; set READ_MODEL_URL in [vars] or delete the secret (docs/read-models.md)",
    );
  }
  return { errors, warnings };
}
