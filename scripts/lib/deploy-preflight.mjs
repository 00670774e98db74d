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
 * @typedef {{ durable_objects?: { bindings?: { name: string }[] }, r2_buckets?: { binding: string }[], kv_namespaces?: { binding: string }[], queues?: { producers?: { binding: string }[] }, d1_databases?: { binding: string, database_name?: string, database_id?: string }[], services?: { binding: string }[] }} Bindings
 */

/**
 * Each kind of binding: what messages call it, its table in wrangler.toml, and the names
 * a resolved config binds.
 * @type {{ what: string, table: string, names: (config: Bindings) => string[] }[]}
 */
const BINDING_KINDS = [
  {
    what: "Durable Object binding",
    table: "durable_objects.bindings",
    names: (c) => (c.durable_objects?.bindings ?? []).map((b) => b.name),
  },
  { what: "D1 binding", table: "d1_databases", names: (c) => (c.d1_databases ?? []).map((b) => b.binding) },
  { what: "R2 bucket binding", table: "r2_buckets", names: (c) => (c.r2_buckets ?? []).map((b) => b.binding) },
  {
    what: "queue producer binding",
    table: "queues.producers",
    names: (c) => (c.queues?.producers ?? []).map((b) => b.binding),
  },
  { what: "KV namespace binding", table: "kv_namespaces", names: (c) => (c.kv_namespaces ?? []).map((b) => b.binding) },
  { what: "service binding", table: "services", names: (c) => (c.services ?? []).map((b) => b.binding) },
];

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
      problems.push(
        `[env.${env}] has no ${kind.what} ${name}, which the top level binds: bindings are not inherited, so copy its entry into [[env.${env}.${kind.table}]] (docs/operations.md, "Deploys, upgrades, rollback")`,
      );
    }
  }
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
  return { errors, warnings };
}
