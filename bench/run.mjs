/**
 * `npm run bench`: bundle the Workers, serve them with Miniflare, load them with autocannon
 * in interleaved rounds, and write bench/REPORT.md. See bench/README.md.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { newSigningKeySet } from "../scripts/jwt-keys.mjs";
import { buildWorker } from "./lib/build.mjs";
import { plinthFixtures } from "./lib/fixtures.mjs";
import { stopLoad } from "./lib/load.mjs";
import { machineInfo, median, reading, table, writeReport } from "./lib/report.mjs";
import { brief, measure } from "./lib/rounds.mjs";
import { loginSection, runSeries, stopSeries } from "./lib/series.mjs";
import { applyMigrations, startWorker, stopAll, stopWorker } from "./lib/serve.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TMP = path.join(ROOT, "bench", ".tmp");

const COMPAT = { compatibilityDate: "2026-04-20", compatibilityFlags: ["nodejs_compat"] };

/** Fresh for every run; it only ever travels between this process and 127.0.0.1. */
const ROOT_KEY = randomBytes(32).toString("base64url");

/**
 * plinth's bindings, hard-coded from the top-level (development) section of
 * /work/main/wrangler.toml — keep in step with it. Differences on purpose: LOG_LEVEL is
 * "warn" so per-request log lines do not dominate the measurement; queue consumers, crons
 * and observability are left out (nothing here triggers them). Storage is in-memory. The
 * required secrets are generated per run, as `npm start` does for .dev.vars.
 */
const PLINTH_CONFIG = {
  ...COMPAT,
  vars: {
    ENVIRONMENT: "development",
    LOG_LEVEL: "warn",
    MAX_BODY_BYTES: "1048576",
    GIT_COMMIT: "unknown",
    PLATFORM_ROOT_KEY: ROOT_KEY,
    JWT_SIGNING_KEYS: newSigningKeySet(),
  },
  d1Databases: { DB: "00000000-0000-4000-8000-000000000000" },
  queueProducers: { EVENTS: "plinth-events" },
  r2Buckets: { FILES: "plinth-files" },
  durableObjects: {
    TENANT_DIRECTORY: { className: "TenantDirectory", useSQLite: true },
    AGGREGATE: { className: "Aggregate", useSQLite: true },
  },
};

/** The bench tenant and user, created through plinth's API once the Worker runs. */
const plinth = plinthFixtures({
  rootKey: ROOT_KEY,
  slug: "bench",
  email: "bench@example.com",
  password: "bench-password-0123456789",
});

/**
 * @typedef {object} WorkerDef
 * @property {import("./lib/build.mjs").BuildOptions} build
 * @property {Omit<import("./lib/serve.mjs").WorkerServeOptions, "scriptPath">} serve
 * @property {{ binding: string, dir: string }} [migrations] applied to that D1 binding
 *   before measuring
 */

/** Workers to build and serve. @type {Record<"hello" | "plinth", WorkerDef>} */
const WORKERS = {
  hello: {
    build: {
      root: ROOT,
      configPath: path.join(ROOT, "bench", "hello", "wrangler.toml"),
      main: path.join(ROOT, "bench", "hello", "index.ts"),
      outdir: path.join(TMP, "hello"),
    },
    serve: COMPAT,
  },
  plinth: {
    build: {
      root: ROOT,
      main: path.join(ROOT, "src", "index.ts"),
      outdir: path.join(TMP, "plinth"),
    },
    serve: PLINTH_CONFIG,
    migrations: { binding: "DB", dir: path.join(ROOT, "migrations") },
  },
};

/**
 * What is measured, one row each. Exactly one has `baseline: true`. Optional per scenario:
 * method, headers, body (sent as is on every request), and `setup(origin)`, run once against
 * the started Worker before the pre-flight, returning headers to add (lib/rounds.mjs).
 * @type {(import("./lib/rounds.mjs").Scenario & { worker: keyof typeof WORKERS })[]}
 */
const SCENARIOS = [
  { name: "hello GET /", worker: "hello", path: "/", baseline: true },
  { name: "plinth GET /api/v1/system/info", worker: "plinth", path: "/api/v1/system/info" },
  { name: "plinth GET /api/v1/me (API key)", worker: "plinth", path: "/api/v1/me", setup: plinth.apiKeyAuth },
  { name: "plinth GET /api/v1/me (JWT)", worker: "plinth", path: "/api/v1/me", setup: plinth.jwtAuth },
];

/**
 * The login series (lib/series.mjs): sequential, after the throughput rounds. `cases(origin)`
 * is its set-up, returning the requests to alternate. Bounded whatever BENCH_LOGINS says.
 * @type {{ name: string, worker: keyof typeof WORKERS,
 *   cases: (origin: string) => Promise<import("./lib/series.mjs").SeriesCase[]> }}
 */
const LOGIN = { name: "plinth POST /api/v1/auth/login", worker: "plinth", cases: plinth.loginCases };
const LOGIN_WARMUP = 2; // untimed logins per case first (the first unknown email also computes the dummy hash)
const LOGIN_BUDGET_S = 90; // the series stops, with fewer samples, after this long
const LOGIN_TIMEOUT_S = 10; // per request

/** How the scenarios are set up, for the report's Method section. */
const METHOD_NOTES = [
  "Set-up, once, through plinth's own API on the started Worker: a tenant `bench` created with the platform root key (its `admin_key` is the API-key credential), and a user registered in it and logged in (its access token, valid 15 minutes, is the JWT credential; the bench logs in again if a measurement would outlive it). Every request of a scenario is identical.",
];

/**
 * An integer knob from the environment, bounded so a typo cannot make the run endless.
 * @param {string} name
 * @param {number} fallback
 * @param {number} min
 * @param {number} max
 */
function knob(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name}=${raw}: expected an integer from ${min} to ${max}`);
  }
  return n;
}

const method = {
  duration: knob("BENCH_DURATION", 10, 1, 60),
  connections: knob("BENCH_CONNECTIONS", 50, 1, 500),
  rounds: knob("BENCH_ROUNDS", 3, 1, 10),
  warmup: knob("BENCH_WARMUP", 2, 0, 10),
};
const logins = knob("BENCH_LOGINS", 20, 0, 50);
const filter = process.env.BENCH_FILTER ?? "";
const scenarios = SCENARIOS.filter((s) => s.baseline || s.name.includes(filter));
const runLogins = logins > 0 && LOGIN.name.includes(filter);

// Whole-run watchdog: measurements plus a generous allowance for builds, start-up and set-up.
const budgetS =
  scenarios.length * (method.warmup + method.rounds * method.duration) + (runLogins ? LOGIN_BUDGET_S : 0) + 180;
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${budgetS} s; giving up.`);
  void shutdown(1);
}, budgetS * 1000);
watchdog.unref();

let shuttingDown = false;
/** Stop load and every Miniflare instance, then exit. */
async function shutdown(/** @type {number} */ code) {
  if (shuttingDown) return;
  shuttingDown = true;
  stopLoad();
  stopSeries();
  await stopAll();
  process.exit(code);
}
/** Ctrl-C / kill: stop cleanly without writing a partial report. */
function interrupted(/** @type {string} */ signal, /** @type {number} */ code) {
  console.error(`bench: ${signal}: stopping Miniflare and exiting; no report written.`);
  void shutdown(code);
}
process.on("SIGINT", () => interrupted("SIGINT", 130));
process.on("SIGTERM", () => interrupted("SIGTERM", 143));

/**
 * The login series against the running Worker, as a REPORT.md section.
 * @param {string | undefined} origin undefined if the Worker is not running
 * @param {string[]} notes
 * @returns {Promise<{ section: string, ok: boolean }>}
 */
async function loginSeries(origin, notes) {
  const notRun = (/** @type {string} */ why) => ({ section: `## Login (Argon2id)\n\nNot run: ${why}.\n`, ok: false });
  if (!origin) return notRun(`${LOGIN.worker} is not running`);
  /** @type {import("./lib/series.mjs").SeriesCase[]} */
  let cases;
  try {
    cases = await LOGIN.cases(origin);
  } catch (err) {
    notes.push(`${LOGIN.name}: set-up failed: ${brief(err)}`);
    return notRun("its set-up failed (see Notes)");
  }
  console.log(`bench: ${LOGIN.name}: ${LOGIN_WARMUP} + ${logins} sequential requests per case…`);
  const result = await runSeries({
    origin,
    cases,
    count: logins,
    warmup: LOGIN_WARMUP,
    budgetMs: LOGIN_BUDGET_S * 1000,
    timeoutMs: LOGIN_TIMEOUT_S * 1000,
  });
  if (result.stoppedEarly) notes.push(`${LOGIN.name}: stopped after ${LOGIN_BUDGET_S} s with fewer samples`);
  const ok = !result.stoppedEarly && result.cases.every((c) => Object.keys(c.unexpected).length === 0);
  return { section: loginSection(result), ok };
}

async function main() {
  const machine = machineInfo(ROOT); // before starting anything, for the load average
  /** @type {string[]} */
  const notes = [];
  /** @type {Map<string, string>} scenario name -> reason it was skipped */
  const skipped = new Map();
  /** @type {Map<string, { url: URL, logs: { count: number, sample: string[] } }>} */
  const servers = new Map();

  // 1–2. Build and serve each Worker that a scenario (or the login series) needs.
  const needed = new Set([...scenarios.map((s) => s.worker), ...(runLogins ? [LOGIN.worker] : [])]);
  for (const name of needed) {
    const w = WORKERS[name];
    /** @type {Awaited<ReturnType<typeof startWorker>> | undefined} */
    let server;
    try {
      console.log(`bench: building ${name}…`);
      const scriptPath = await buildWorker(w.build);
      server = await startWorker({ scriptPath, ...w.serve });
      if (w.migrations) {
        const applied = await applyMigrations(server.mf, w.migrations.binding, w.migrations.dir);
        console.log(`bench: ${name}: applied ${applied.length} migration(s) to ${w.migrations.binding}`);
      }
      servers.set(name, server);
      console.log(`bench: ${name} serving on ${server.url.origin}`);
    } catch (err) {
      const reason = `${name} could not be built or started: ${brief(err)}`;
      console.error(`bench: ${reason}`);
      notes.push(reason);
      if (server) await stopWorker(server.mf);
      for (const s of scenarios.filter((x) => x.worker === name)) {
        skipped.set(s.name, `${name} could not be built or started; see Notes`);
      }
    }
  }
  const baseline = scenarios.find((s) => s.baseline);
  if (!baseline || skipped.has(baseline.name)) {
    throw new Error("the baseline Worker is not available");
  }

  // 3. Set-up, pre-flight, warm-up and the interleaved rounds; then the login series.
  const origins = new Map([...servers].map(([name, server]) => [name, server.url.origin]));
  const results = await measure({ scenarios, origins, method, notes, skipped });
  const login = runLogins ? await loginSeries(origins.get(LOGIN.worker), notes) : null;

  // 4. Aggregate and report.
  const rows = scenarios.map((s) => {
    const rs = results.get(s.name) ?? [];
    return {
      name: s.name,
      baseline: Boolean(s.baseline),
      skipped: skipped.get(s.name) ?? null,
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      rpsRounds: rs.map((r) => r.rps),
      p99Rounds: rs.map((r) => r.p99),
      non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
      errors: rs.reduce((n, r) => n + r.errors, 0),
    };
  });
  for (const s of scenarios) {
    const codes = new Set((results.get(s.name) ?? []).flatMap((r) => Object.keys(r.statuses)));
    const odd = [...codes].filter((code) => !code.startsWith("2"));
    if (odd.length) notes.push(`${s.name}: non-2xx status codes seen: ${odd.join(", ")}`);
  }
  for (const [name, { logs }] of servers) {
    if (logs.count > 0) {
      notes.push(`${name} Worker wrote ${logs.count} log line(s) during the run; first: ${logs.sample.join(" | ")}`);
    }
  }

  const tableMd = table(rows);
  writeReport(path.join(ROOT, "bench", "REPORT.md"), {
    date: new Date().toISOString(),
    machine,
    method,
    rows,
    methodNotes: METHOD_NOTES,
    sections: login ? [login.section] : [],
    notes,
  });
  console.log(`\n${tableMd}\n\n${reading(rows, method)}\n`);
  if (login) console.log(`${login.section}`);
  for (const n of notes) console.log(`note: ${n}`);
  console.log("bench: wrote bench/REPORT.md");
  const throughputOk = rows.every((r) => !r.skipped && r.non2xx + r.errors === 0);
  return throughputOk && (login?.ok ?? true) ? 0 : 1;
}

main()
  .then((code) => shutdown(code))
  .catch((err) => {
    console.error(`bench: ${err?.stack ?? err}`);
    return shutdown(1);
  });
