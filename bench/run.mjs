/**
 * `npm run bench`: bundle the Workers, serve them with Miniflare, load them with autocannon
 * in interleaved rounds, and write bench/REPORT.md. See bench/README.md.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildWorker } from "./lib/build.mjs";
import { load, preflight, stopLoad } from "./lib/load.mjs";
import { machineInfo, median, reading, table, writeReport } from "./lib/report.mjs";
import { applyMigrations, startWorker, stopAll, stopWorker } from "./lib/serve.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TMP = path.join(ROOT, "bench", ".tmp");

const COMPAT = { compatibilityDate: "2026-04-20", compatibilityFlags: ["nodejs_compat"] };

/**
 * plinth's bindings, hard-coded from the top-level (development) section of
 * /work/main/wrangler.toml — keep in step with it. Differences on purpose: LOG_LEVEL is
 * "warn" so per-request log lines do not dominate the measurement; queue consumers, crons
 * and observability are left out (nothing here triggers them). Storage is in-memory.
 */
const PLINTH_CONFIG = {
  ...COMPAT,
  vars: {
    ENVIRONMENT: "development",
    LOG_LEVEL: "warn",
    MAX_BODY_BYTES: "1048576",
    GIT_COMMIT: "unknown",
  },
  d1Databases: { DB: "00000000-0000-4000-8000-000000000000" },
  queueProducers: { EVENTS: "plinth-events" },
  r2Buckets: { FILES: "plinth-files" },
};

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
 * method, headers, body (sent as is on every request).
 * @type {{ name: string, worker: keyof typeof WORKERS, path: string, baseline?: boolean,
 *   method?: string, headers?: Record<string, string>, body?: string }[]}
 */
const SCENARIOS = [
  { name: "hello GET /", worker: "hello", path: "/", baseline: true },
  { name: "plinth GET /api/v1/system/info", worker: "plinth", path: "/api/v1/system/info" },
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
const filter = process.env.BENCH_FILTER ?? "";
const scenarios = SCENARIOS.filter((s) => s.baseline || s.name.includes(filter));

// Whole-run watchdog: measurements plus a generous allowance for builds and start-up.
const budgetS = scenarios.length * (method.warmup + method.rounds * method.duration) + 150;
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${budgetS} s; giving up.`);
  void shutdown(1);
}, budgetS * 1000);
watchdog.unref();

/** First lines of an error, on one line, for the report. */
const brief = (/** @type {any} */ err) =>
  String(err?.message ?? err)
    .split("\n")
    .slice(0, 12)
    .join(" ")
    .slice(0, 800);

let shuttingDown = false;
/** Stop load and every Miniflare instance, then exit. */
async function shutdown(/** @type {number} */ code) {
  if (shuttingDown) return;
  shuttingDown = true;
  stopLoad();
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

async function main() {
  const machine = machineInfo(ROOT); // before starting anything, for the load average
  /** @type {string[]} */
  const notes = [];
  /** @type {Map<string, string>} scenario name -> reason it was skipped */
  const skipped = new Map();
  /** @type {Map<string, { url: URL, logs: { count: number, sample: string[] } }>} */
  const servers = new Map();

  // 1–2. Build and serve each Worker that a scenario needs.
  for (const name of new Set(scenarios.map((s) => s.worker))) {
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

  const active = scenarios.filter((s) => !skipped.has(s.name));
  const target = (/** @type {(typeof SCENARIOS)[number]} */ s) => ({
    url: new URL(s.path, servers.get(s.worker)?.url).href,
    method: s.method,
    headers: s.headers,
    body: s.body,
  });

  // 3. Pre-flight and warm-up.
  for (const s of active) {
    const pf = await preflight(target(s));
    if (!pf.ok) notes.push(`${s.name}: pre-flight request returned ${pf.status}: ${pf.snippet}`);
    if (method.warmup > 0) {
      await load({ ...target(s), connections: method.connections, duration: method.warmup });
    }
  }

  // Interleaved rounds, rotating the order so no scenario always runs first.
  /** @type {Map<string, import("./lib/load.mjs").LoadResult[]>} */
  const results = new Map(active.map((s) => [s.name, []]));
  for (let round = 0; round < method.rounds; round++) {
    for (let i = 0; i < active.length; i++) {
      const s = active[(i + round) % active.length];
      const r = await load({
        ...target(s),
        connections: method.connections,
        duration: method.duration,
      });
      results.get(s.name)?.push(r);
      const bad = r.non2xx + r.errors > 0 ? `  non-2xx ${r.non2xx} errors ${r.errors}` : "";
      console.log(
        `bench: round ${round + 1}/${method.rounds} ${s.name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${bad}`,
      );
    }
  }

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
  for (const s of active) {
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
    notes,
  });
  console.log(`\n${tableMd}\n\n${reading(rows, method)}\n`);
  for (const n of notes) console.log(`note: ${n}`);
  console.log("bench: wrote bench/REPORT.md");
  return rows.every((r) => !r.skipped && r.non2xx + r.errors === 0) ? 0 : 1;
}

main()
  .then((code) => shutdown(code))
  .catch((err) => {
    console.error(`bench: ${err?.stack ?? err}`);
    return shutdown(1);
  });
