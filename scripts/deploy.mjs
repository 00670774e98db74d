#!/usr/bin/env node
// `npm run deploy -- --env production`: applies pending D1 migrations to the
// remote database (and, when READ_MODEL_URL is set in this shell, to the
// libSQL read-model database), then deploys with the git commit injected.
import { migrateLibsql } from "./lib/db-migrate.mjs";
import { bin, gitCommit, run } from "./lib/env.mjs";

const extra = process.argv.slice(2);
if (!extra.some((a) => a === "--env" || a.startsWith("--env=") || a === "-e")) {
  console.error("deploy: name the target: npm run deploy -- --env staging|production");
  process.exit(2);
}
const migrated = await run(bin("wrangler"), ["d1", "migrations", "apply", "DB", "--remote", ...extra]);
if (migrated !== 0) process.exit(migrated);
if (process.env.READ_MODEL_URL) {
  const { before, after } = await migrateLibsql({
    url: process.env.READ_MODEL_URL,
    authToken: process.env.READ_MODEL_AUTH_TOKEN || undefined,
  });
  console.log(`deploy: libSQL read models migrated (${after - before} applied, ${after} in all)`);
}
process.exit(await run(bin("wrangler"), ["deploy", "--var", `GIT_COMMIT:${gitCommit()}`, ...extra]));
