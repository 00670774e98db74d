#!/usr/bin/env node
// `npm run deploy -- --env production`: applies pending D1 migrations to the
// remote database, then deploys with the git commit injected.
import { bin, gitCommit, run } from "./lib/env.mjs";

const extra = process.argv.slice(2);
if (!extra.some((a) => a === "--env" || a.startsWith("--env=") || a === "-e")) {
  console.error("deploy: name the target: npm run deploy -- --env staging|production");
  process.exit(2);
}
const migrated = await run(bin("wrangler"), ["d1", "migrations", "apply", "DB", "--remote", ...extra]);
if (migrated !== 0) process.exit(migrated);
process.exit(await run(bin("wrangler"), ["deploy", "--var", `GIT_COMMIT:${gitCommit()}`, ...extra]));
