#!/usr/bin/env node
// `npm start`: migrates the local D1 database, runs the Worker under
// `wrangler dev` on 127.0.0.1, waits until it answers, prints where
// everything is, then fires the minutely trigger whenever a job is due
// (lib/local-cron.mjs). Nothing leaves the machine (see lib/env.mjs).
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { MIGRATIONS_FOLDER, migrateD1Quietly, migrateLibsql } from "./lib/db-migrate.mjs";
import { anotherStartLines, endReplays, owedReplays, trackRun, uncleanStopLines } from "./lib/dev-crash.mjs";
import { generateSources, refreshGenerated } from "./lib/dev-generated.mjs";
import { applyNewMigrations } from "./lib/dev-migrations.mjs";
import { wranglerTomlSettled } from "./lib/dev-settle.mjs";
import { ensureDemoTenant, ensureDevVars, readDevVars, SETUP_TIMEOUT, SecretFileError } from "./lib/dev-setup.mjs";
import { superviseDev } from "./lib/dev-supervisor.mjs";
import { watchDevVars, watchManifests, watchMigrations, watchSources, watchWranglerToml } from "./lib/dev-watch.mjs";
import { bin, gitCommit, offlineEnv, root } from "./lib/env.mjs";
import { fetchWithin, within } from "./lib/fetch-within.mjs";
import { startLocalCron } from "./lib/local-cron.mjs";

const port = Number(process.env.PORT ?? 8787);
const host = "127.0.0.1";
const origin = `http://${host}:${port}`;

/** True when nothing listens on host:port yet. */
function portIsFree() {
  return new Promise((resolve) => {
    const probe = createServer()
      .once("error", () => resolve(false))
      .once("listening", () => probe.close(() => resolve(true)))
      .listen(port, host);
  });
}

if (!(await portIsFree())) {
  console.error(
    `plinth: ${host}:${port} is already in use. Stop what runs there, or pick another port: PORT=8788 npm start`,
  );
  process.exit(1);
}

let devVars;
try {
  devVars = ensureDevVars();
} catch (error) {
  // A .dev.vars another user owns (made by `sudo npm start`): one line saying what to do, no stack.
  if (!(error instanceof SecretFileError)) throw error;
  console.error(`plinth: ${error.message}`);
  process.exit(1);
}
// The root key the local cron and the replays send: .dev.vars' as it is now, since an edit
// there (a rotation) restarts wrangler dev with the new one (the watch below updates it).
let rootKey = devVars.PLATFORM_ROOT_KEY;

// The last run's record (lib/dev-crash.mjs): one that did not stop cleanly lost the local
// queue's undelivered events; say so, and which replays give them back. Another npm start
// still running on this state would share its databases: this one stops, leaving its record.
const tracked = trackRun({ port });
if (tracked.previous.state === "running") {
  console.error(anotherStartLines(tracked.previous).join("\n"));
  process.exit(1);
}
if (tracked.unwritable) {
  console.error(
    `plinth: this run cannot be recorded in .wrangler/state (${tracked.unwritable}); if it does not stop cleanly, the next start will not know`,
  );
}
const replayOnCrash = process.env.PLINTH_REPLAY_AFTER_CRASH !== "0";
if (tracked.owedSince)
  console.error(
    uncleanStopLines({
      since: tracked.owedSince,
      startedAt: tracked.previous.state === "unclean" ? tracked.previous.startedAt : undefined,
      origin,
      auto: replayOnCrash,
      cleanly: tracked.previous.state === "owed",
    }).join("\n"),
  );
// Runs the replays this run owes (lib/dev-crash.mjs), one run at a time, or, with
// PLINTH_REPLAY_AFTER_CRASH=0, names them when wrangler dev restarts under this run.
const replayOwed = owedReplays({
  tracked,
  auto: replayOnCrash,
  origin,
  rootKey: () => rootKey,
  say: (line) => console.log(line),
  warn: (line) => console.error(line),
});

// The generated sources the Worker imports, from wrangler.toml, migrations/ and the manifests as
// they are: a binding added since the last `npm run generate` is in /readyz under its class's name
// (lib/dev-generated.mjs). Begun beside the migrations, which it does not need (it reads the
// files, not the database): each is a process of its own, seconds long on a cold start.
const generated = refreshGenerated({
  root,
  why: "src/generated/ was behind its inputs",
  say: (line) => console.error(line),
});

console.log("plinth: applying local D1 migrations…");
const migrated = await migrateD1Quietly();
if (migrated.code !== 0) {
  process.stderr.write(migrated.output);
  console.error("plinth: local D1 migrations failed; see above.");
  process.exit(migrated.code);
}
console.log(
  migrated.applied.length === 0
    ? "plinth: local D1 is up to date"
    : `plinth: local D1 migrated (${migrated.applied.length} applied: ${migrated.applied.join(", ")})`,
);
// Read models on a local libSQL server (docs/read-models.md): its migrations too.
if (devVars.READ_MODEL_URL) {
  try {
    const { before, after } = await migrateLibsql({
      url: devVars.READ_MODEL_URL,
      authToken: devVars.READ_MODEL_AUTH_TOKEN,
    });
    console.log(`plinth: libSQL read models migrated (${after - before} applied, ${after} in all)`);
  } catch (error) {
    console.error(
      `plinth: libSQL migrations failed (READ_MODEL_URL in .dev.vars): ${error.cause?.message ?? error.message}`,
    );
    process.exit(1);
  }
}

await generated;

// --test-scheduled: lib/local-cron.mjs fires the trigger (and wrangler no longer warns that nothing does).
const args = ["dev", "--ip", host, "--port", String(port), "--test-scheduled", "--var", `GIT_COMMIT:${gitCommit()}`];
if (!process.stdin.isTTY) args.push("--show-interactive-dev-session=false");
let stopCron = () => {};
let stopDevVarsWatch = () => {};
let stopMigrationsWatch = () => {};
let stopWranglerTomlWatch = () => {};
let stopManifestsWatch = () => {};
let starts = 0;
// From npm start's own restart of wrangler dev (a .dev.vars edit, a load error fixed) until it
// answers again: the local cron then says nothing of a Worker gone (lib/local-cron.mjs).
let restarting = false;
const dev = superviseDev({
  start: () => {
    const child = spawn(bin("wrangler"), args, { cwd: root, stdio: "inherit", env: offlineEnv });
    // A restart (after a load error, or a .dev.vars edit): say when it answers again, as the
    // first start's summary did, or why it refuses every request (an invalid .dev.vars).
    if (starts++ > 0) {
      // The wrangler dev that ended took Miniflare's queue, and the events it held, with it.
      tracked.owe();
      restarting = true;
      void waitForHealthy(90_000).then((health) => {
        restarting = false;
        if (health === true) {
          console.log(`\n  plinth is running again at ${origin} (keys and URLs as printed above)\n`);
          void replayOwed("the events the stopped wrangler dev's queue held", { restarted: true });
        } else if (health)
          console.error(
            `plinth: ${health}\nplinth: fix .dev.vars (docs/configuration.md); saving it starts wrangler dev again`,
          );
      });
    }
    return child;
  },
  watch: (onChange) => watchSources(root, onChange),
  // `cp other.toml wrangler.toml` while it runs: wrangler dev may stop at the empty file.
  settle: (startedAt) => wranglerTomlSettled(root, startedAt),
  log: (line) => console.error(line),
  exit: (code) => {
    // The replays' CLIs too (their exit at ours is lib/dev-crash.mjs's catch-all).
    endReplays("SIGTERM");
    stopCron();
    stopDevVarsWatch();
    stopMigrationsWatch();
    stopWranglerTomlWatch();
    stopManifestsWatch();
    process.exit(code);
  },
});
// A stop reaches the replays under way too: a SIGTERM sent to this process alone (not its
// group, as Ctrl-C in a terminal is) left their CLI running after npm start had ended.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    endReplays(signal);
    dev.stop(signal);
  });
}

/** How long one look at /healthz may take: a workerd that took the request and hung held npm start for ever. */
const HEALTH_LOOK = within("5s");

/**
 * Polls until the Worker answers /healthz, for at most `ms`: true when healthy, else the
 * `config_invalid` detail of a Worker whose configuration is invalid (it answers every
 * request so, naming the variables; wrangler dev does not reload on a .dev.vars edit, so
 * waiting on would not help), else false.
 */
async function waitForHealthy(ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !dev.exited) {
    try {
      const res = await fetchWithin(`${origin}/healthz`, {}, HEALTH_LOOK);
      if (res.ok) return true;
      const problem = await res.json().catch(() => null);
      if (problem?.code === "config_invalid") return String(problem.detail);
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

const health = await waitForHealthy(90_000);
if (health !== true) {
  console.error(
    health
      ? `plinth: ${health}\nplinth: why each is refused, and where to fix it, is in the "config invalid" log line above (its "issues": a variable in .dev.vars, a binding in wrangler.toml; docs/configuration.md); then run npm start again`
      : `plinth: the Worker did not answer ${origin}/healthz within 90 s`,
  );
  dev.stop("SIGTERM");
  process.exit(1);
}
dev.up();

const ready = await fetchWithin(`${origin}/readyz`, {}, within(SETUP_TIMEOUT))
  .then((r) => r.json())
  .catch(() => ({ status: "unknown" }));

const demo = await ensureDemoTenant(origin, devVars.PLATFORM_ROOT_KEY).catch((error) => ({ error: error.message }));
const demoLines = demo.error
  ? [`    demo tenant   not available: ${demo.error}`]
  : [
      `    demo tenant   ${demo.slug} (${demo.tenant_id})`,
      `    admin key     ${demo.admin_key}`,
      `    tenant host   http://${demo.slug}.localhost:${port}  (CORS: PATCH /api/v1/admin/settings {"cors_origins":[...]})`,
      "",
      "  Try it:",
      `    curl -s -H "Authorization: Bearer ${demo.admin_key}" ${origin}/api/v1/me`,
      `    curl -s -X POST -H "X-Tenant: ${demo.slug}" -H "Content-Type: application/json" \\`,
      `      -d '{"email":"ada@example.com","password":"correct horse battery","name":"Ada"}' ${origin}/api/v1/auth/register`,
    ];

const lines = [
  "",
  "  plinth is running",
  `    API           ${origin}/api/v1/system/info`,
  `    API docs      ${origin}/docs`,
  `    OpenAPI       ${origin}/openapi.json`,
  `    health        ${origin}/healthz   readiness: ${ready.status} (${origin}/readyz)`,
  `    jobs          fired here when due (${origin}/api/v1/platform/jobs with the root key)`,
  `                  a tick by hand: ${origin}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`,
  `    JWKS          ${origin}/.well-known/jwks.json`,
  `    dev mailbox   ${origin}/api/v1/dev/mailbox  (with X-Tenant)`,
  // The CLI's default URL is port 8787's: on another port, say how to point it here.
  ...(port === 8787 ? [] : [`    CLI           export PLINTH_URL=${origin}   (then: npx plinth --help)`]),
  ...demoLines,
  "",
  "  Ctrl-C stops it. Local D1/R2/Queues state lives in .wrangler/state.",
  "",
];
console.log(lines.join("\n"));

// Replaying is idempotent (each subscription applies only what its ledger lacks), so after a
// crash it is done for the developer rather than left to a message scrolled away. In the
// background (the local cron and the watchers below start meanwhile), one run at a time.
void replayOwed("the events the last run's queue lost");

stopCron = startLocalCron({
  origin,
  rootKey: () => rootKey,
  // A workerd that died under wrangler dev took the queue's events: owed, so that a Ctrl-C now is
  // not a clean stop with nothing to replay, and the next start says so and replays them.
  onUnreachable: () => tracked.owe(),
  restarting: () => restarting,
});
// wrangler dev reads .dev.vars only when it starts: an edit restarts it, so the values apply
// (the local cron's root key among them).
stopDevVarsWatch = watchDevVars(root, () => {
  console.error("plinth: .dev.vars changed; starting wrangler dev again so the new values apply…");
  restarting = true;
  rootKey = readDevVars().PLATFORM_ROOT_KEY ?? rootKey;
  dev.restart();
});
// A migration generated while plinth runs (`npx drizzle-kit generate`) is applied at once:
// the reloaded Worker's reads expect its columns, and until it is applied a read model
// answers 503 (a column SQLite cannot find would read as its own name). One run at a time.
// A migration rewritten under its name goes the same way, so npm start says when the local D1
// had applied that name already (and applies one that had failed).
let migrating = Promise.resolve();
const migrationSteps = {
  migrateD1: migrateD1Quietly,
  migrateLibsql: devVars.READ_MODEL_URL
    ? () => migrateLibsql({ url: devVars.READ_MODEL_URL, authToken: devVars.READ_MODEL_AUTH_TOKEN })
    : null,
  listMigrations: () => generateSources(root),
  say: (line) => console.error(line),
};
stopMigrationsWatch = watchMigrations(
  MIGRATIONS_FOLDER,
  (names) => {
    migrating = migrating.then(() => applyNewMigrations(names, migrationSteps));
  },
  undefined,
  (names) => {
    migrating = migrating.then(() => applyNewMigrations(names, migrationSteps, { rewritten: true }));
  },
);

// A Durable Object binding added to wrangler.toml: objects.ts names its class for /readyz.
// Queued with the migrations' runs: both write src/generated/.
stopWranglerTomlWatch = watchWranglerToml(root, () => {
  migrating = migrating.then(() =>
    refreshGenerated({ root, why: "wrangler.toml changed", say: (line) => console.error(line) }),
  );
});
// A permission declared in a manifest: permissions.ts gets its PERMISSIONS constant, so a route
// using it loads (a Worker that stopped at it starts again, as permissions.ts is a change in src/).
stopManifestsWatch = watchManifests(root, () => {
  migrating = migrating.then(async () => {
    const written = await refreshGenerated({
      root,
      why: "a module's manifest changed",
      say: (line) => console.error(line),
    });
    // The save restarted a failed wrangler dev, which may be building with the old file.
    if (written && written.length > 0) dev.rewrote();
  });
});
