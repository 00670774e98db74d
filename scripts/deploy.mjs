#!/usr/bin/env node
// `npm run deploy -- --env production [--dry-run] [wrangler deploy flags]`: checks the
// environment's config and the Worker's secrets (lib/deploy-preflight.mjs), applies
// pending D1 migrations to the remote database (and, when READ_MODEL_URL is set in this
// shell, to the libSQL read-model database), then deploys with the git commit injected.
// `--dry-run` checks the config and bundles, touching nothing remote. The config checks
// include the Worker's own over [vars] (lib/deploy-vars.mjs).
import { spawnSync } from "node:child_process";
import { unstable_readConfig } from "wrangler";
import { migrateLibsql } from "./lib/db-migrate.mjs";
import { configProblems, configWarnings, deployArgs, secretProblems } from "./lib/deploy-preflight.mjs";
import { loadConfigCheck, varsProblems } from "./lib/deploy-vars.mjs";
import { bin, gitCommit, offlineEnv, root, run } from "./lib/env.mjs";
import { unknownEnvironment } from "./lib/wrangler-envs.mjs";

const { env, config, dryRun, target, rest } = deployArgs(process.argv.slice(2));
if (!env) {
  console.error("deploy: name the target: npm run deploy -- --env staging|production");
  process.exit(2);
}

const misspelt = await unknownEnvironment(env, config);
if (misspelt) {
  console.error(`deploy: ${misspelt}`);
  process.exit(2);
}

let resolved;
let top;
try {
  resolved = unstable_readConfig({ config: config ?? `${root}/wrangler.toml`, env });
  top = unstable_readConfig({ config: config ?? `${root}/wrangler.toml` });
} catch (error) {
  console.error(`deploy: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
const commit = gitCommit();
// The Worker's own config check over [vars] (with the commit the deploy injects): a value it
// refuses would deploy, then answer every request 500 config_invalid.
let check;
try {
  check = await loadConfigCheck();
} catch (error) {
  // The sources do not bundle: the deploy's own bundle would fail the same way, later.
  console.error(
    `deploy: cannot load the Worker's config check (src/kernel/config): ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}
const problems = [
  ...configProblems(resolved, env, top),
  ...varsProblems(check, resolved.vars ?? {}, env, { GIT_COMMIT: commit }),
];
const warnings = configWarnings(resolved, env);
const report = () => {
  for (const warning of warnings) console.warn(`deploy: warning: ${warning}`);
  for (const problem of problems) console.error(`deploy: ${problem}`);
};
// A dry run says it after wrangler's bundle report, which is long: last, where it is read.
if (!dryRun) report();

const deploy = ["deploy", "--var", `GIT_COMMIT:${commit}`, ...target, ...rest];
if (dryRun) {
  const bundled = await run(bin("wrangler"), [...deploy, "--dry-run"]);
  report();
  if (problems.length > 0) {
    const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
    console.error(
      `deploy: --dry-run: ${count} above; \`npm run deploy -- --env ${env}\` refuses until ${problems.length === 1 ? "it is" : "they are"} fixed`,
    );
  } else if (bundled === 0) {
    console.error(
      `deploy: --dry-run: wrangler.toml [env.${env}] passes; the deploy itself checks the secrets (a dry run uses no account)`,
    );
  }
  process.exit(bundled !== 0 ? bundled : problems.length > 0 ? 1 : 0);
}
if (problems.length > 0) process.exit(1);

// The Worker's secrets, by name (values never leave Cloudflare).
const listed = spawnSync(bin("wrangler"), ["secret", "list", "--format", "json", ...target], {
  cwd: root,
  env: offlineEnv,
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
});
let names;
try {
  names = JSON.parse(listed.stdout).map((s) => s.name);
} catch {
  console.error(
    `deploy: could not list the secrets of ${resolved.name} (see above); set them first: docs/configuration.md, "Secrets"`,
  );
  process.exit(1);
}
const secrets = secretProblems(names, resolved.vars);
for (const warning of secrets.warnings) console.warn(`deploy: warning: ${warning}`);
for (const error of secrets.errors) console.error(`deploy: ${error}`);
if (secrets.errors.length > 0) process.exit(1);

// Only the target flags: `d1 migrations apply` refuses `wrangler deploy`'s own.
const migrated = await run(bin("wrangler"), ["d1", "migrations", "apply", "DB", "--remote", ...target]);
if (migrated !== 0) process.exit(migrated);
if (process.env.READ_MODEL_URL) {
  const { before, after } = await migrateLibsql({
    url: process.env.READ_MODEL_URL,
    authToken: process.env.READ_MODEL_AUTH_TOKEN || undefined,
  });
  console.log(`deploy: libSQL read models migrated (${after - before} applied, ${after} in all)`);
}
process.exit(await run(bin("wrangler"), deploy));
