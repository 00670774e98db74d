// What `npm run deploy` checks before it touches Cloudflare (scripts/deploy.mjs): the
// mistakes that otherwise surface only after the migrations ran or the Worker was
// uploaded (a placeholder D1 id, an environment without a route, a Worker without its
// signing keys, which then answers every request with 500 config_invalid).

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
  const routed = (config.routes?.length ?? 0) > 0 || config.route !== undefined;
  if (config.workers_dev === false && !routed) {
    problems.push(
      `[env.${env}] workers_dev = false and no routes: the Worker would answer nowhere; add routes for PLATFORM_DOMAIN and its tenant subdomains (docs/configuration.md, "Domains")`,
    );
  }
  return problems;
}

/** Secrets without which every request answers 500 config_invalid. */
const REQUIRED_SECRETS = ["JWT_SIGNING_KEYS"];

/** Secrets a production deploy should have, and what goes missing without each. */
const EXPECTED_SECRETS = {
  PLATFORM_ROOT_KEY: "/api/v1/platform (creating tenants) refuses every request",
  ENCRYPTION_KEYS: "webhooks and signed file URLs answer 503, and /readyz fails its mail check",
  METRICS_TOKEN: "GET /metrics answers 401 to every scrape (it is closed in staging and production without it)",
};

/** Secrets whose value being rotated out may be kept as `<name>_PREVIOUS` meanwhile. */
const ROTATED_SECRETS = ["PLATFORM_ROOT_KEY", "METRICS_TOKEN"];

/**
 * What the Worker's secret names (`wrangler secret list --format json`) lack.
 * @param {string[]} names
 * @returns {{ errors: string[], warnings: string[] }}
 */
export function secretProblems(names) {
  const have = new Set(names);
  const errors = REQUIRED_SECRETS.filter((name) => !have.has(name)).map(
    (name) =>
      `secret ${name} is not set: every request would answer 500 config_invalid (docs/configuration.md, "Secrets")`,
  );
  const warnings = Object.entries(EXPECTED_SECRETS)
    .filter(([name]) => !have.has(name))
    .map(([name, what]) => `secret ${name} is not set: ${what}`);
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
  return { errors, warnings };
}
