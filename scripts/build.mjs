#!/usr/bin/env node
// `npm run build [-- --env production]`: bundles the Worker into dist/ exactly
// as `wrangler deploy` would, with the git commit injected for /api/v1/system/info.
import { bin, gitCommit, run } from "./lib/env.mjs";

const extra = process.argv.slice(2);
const code = await run(bin("wrangler"), [
  "deploy",
  "--dry-run",
  "--outdir",
  "dist",
  "--var",
  `GIT_COMMIT:${gitCommit()}`,
  ...extra,
]);
process.exit(code);
