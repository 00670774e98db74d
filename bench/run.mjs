/**
 * `npm run bench`: bundle the Workers, serve them with Miniflare, load them with autocannon
 * in interleaved rounds, and write bench/REPORT.md. See bench/README.md.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { codecSection, runCodec } from "./lib/codec.mjs";
import { editSequence, plinthFixtures } from "./lib/fixtures.mjs";
import { gatewaySection, overloadRuns } from "./lib/gateway.mjs";
import { goalsSection, pipelineFigures } from "./lib/goals.mjs";
import { stopLoad } from "./lib/load.mjs";
import { startOtlpSink } from "./lib/otlp-sink.mjs";
import {
  COMPAT,
  EVENTS_CONSUMER,
  OVERLOAD_POLICY,
  PLINTH_CONFIG,
  plinthTraced,
  plinthWith,
  ROOT_KEY,
} from "./lib/plinth-config.mjs";
import {
  consumerFigures,
  consumerSection,
  drainFailures,
  lagPhase,
  probeBacklog,
  projectionSection,
  stopProjection,
} from "./lib/projection.mjs";
import { replayOnce, replaySection } from "./lib/replay.mjs";
import { knob, machineInfo, median, reading, rowsOf, runNotes, table, writeReport } from "./lib/report.mjs";
import { brief, measure } from "./lib/rounds.mjs";
import { loginReading, resetReading, seriesPhase, stopSeries } from "./lib/series.mjs";
import { probeSql, startAll, stopAll } from "./lib/serve.mjs";
import { wasmPhase } from "./lib/wasm-phase.mjs";
import { WEBHOOKS_NAME, webhooksPhase, webhooksServe } from "./lib/webhooks.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TMP = path.join(ROOT, "bench", ".tmp");

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

const plinthBuild = { root: ROOT, main: path.join(ROOT, "src", "index.ts"), outdir: path.join(TMP, "plinth") };
const migrated = { binding: "DB", dir: path.join(ROOT, "migrations") };
/** A plinth variant for the rate-limit measurements. */
const variant = (/** @type {Record<string, object>} */ policies) => ({
  build: plinthBuild,
  serve: plinthWith(policies),
  migrations: migrated,
});

/** Where the traced variants export their spans: a local sink that only counts them. */
const otlpSink = await startOtlpSink();

/** Workers to build and serve. @type {Record<string, WorkerDef>} */
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
  plinth: { build: plinthBuild, serve: PLINTH_CONFIG, migrations: migrated },
  // The second baseline, for the writes: a command through a SQLite Durable Object and nothing else.
  "do-command": {
    build: {
      root: ROOT,
      configPath: path.join(ROOT, "bench", "do-command", "wrangler.toml"),
      main: path.join(ROOT, "bench", "do-command", "index.ts"),
      outdir: path.join(TMP, "do-command"),
    },
    serve: { ...COMPAT, durableObjects: { THING: { className: "Thing", useSQLite: true } } },
  },
  // Every principal and tenant decision asks its RateLimiter Durable Object first.
  "plinth-sync": variant({ principal: { mode: "sync" }, tenant: { mode: "sync" } }),
  // One request per hour per principal: after the first, every answer comes from the blocked-until cache.
  "plinth-blocked": variant({ principal: { mode: "sync", limit: 1, burst: 1, period_s: 3600 } }),
  // The overload runs: 100 per 10 s with bursts of 10, sent at 10 times that rate.
  "plinth-over-sync": variant({ principal: { ...OVERLOAD_POLICY, mode: "sync" } }),
  "plinth-over-async": variant({ principal: { ...OVERLOAD_POLICY, mode: "async" } }),
  // Tracing on (OpenTelemetry, docs/observability.md#traces), exporting to the local sink: every
  // trace, and 1 in 100. Not "plinth-…": those names are the rate-limit (gateway) variants.
  "otel-plinth-1.0": { build: plinthBuild, serve: plinthTraced(otlpSink.url, 1), migrations: migrated },
  "otel-plinth-0.01": { build: plinthBuild, serve: plinthTraced(otlpSink.url, 0.01), migrations: migrated },
  // Webhooks (lib/webhooks.mjs): its own instance, so no other scenario's queue backlog shares its consumer.
  "plinth-webhooks": { build: plinthBuild, serve: webhooksServe(PLINTH_CONFIG), migrations: migrated },
};

const method = {
  duration: knob("BENCH_DURATION", 10, 1, 60),
  connections: knob("BENCH_CONNECTIONS", 50, 1, 500),
  rounds: knob("BENCH_ROUNDS", 3, 1, 10),
  warmup: knob("BENCH_WARMUP", 2, 0, 10),
};
const writeConnections = knob("BENCH_WRITE_CONNECTIONS", 10, 1, 500);
const logins = knob("BENCH_LOGINS", 20, 0, 50);
const resets = knob("BENCH_RESETS", 40, 0, 200);
const lagSamples = knob("BENCH_PROJECTION", 120, 0, 500);
const codecIterations = knob("BENCH_CODEC", 20_000, 0, 200_000);
const wasmBench = knob("BENCH_WASM", 1, 0, 1);
const webhookEvents = knob("BENCH_WEBHOOK_EVENTS", 300, 0, 2_000);
const webhookEndpoints = knob("BENCH_WEBHOOK_ENDPOINTS", 4, 2, 20);
// `npm run bench -- webhooks` is BENCH_FILTER=webhooks.
const filter = process.env.BENCH_FILTER ?? process.argv[2] ?? "";

/**
 * What is measured, one row each. Exactly one has `baseline: true`. Optional per scenario:
 * method, headers, body (sent as is on every request), `connections`, and `setup(origin)`, run
 * once against the started Worker before the pre-flight, returning headers to add and, for the
 * writes, the request sequence (lib/rounds.mjs). `posts` marks a write scenario: its set-up
 * creates that many posts under `key`, and it runs in the write phase, after everything else.
 * `objects` marks a write scenario of the bare DO command (its requests go to that many objects).
 * @type {(import("./lib/rounds.mjs").Scenario & { worker: keyof typeof WORKERS,
 *   posts?: { key: string, count: number }, objects?: number })[]}
 */
/** The bare DO command's request sequence: `count` objects in turn, the plinth writes' body. */
function bareWrites(/** @type {number} */ count) {
  return async () => {
    const paths = Array.from({ length: count }, (_, i) => `/things/thing-${i}`);
    return { headers: { "content-type": "application/json" }, paths, next: editSequence(paths) };
  };
}

const SCENARIOS = [
  { name: "hello GET /", worker: "hello", path: "/", baseline: true },
  { name: "plinth GET /api/v1/system/info", worker: "plinth", path: "/api/v1/system/info" },
  { name: "plinth GET /api/v1/me (API key)", worker: "plinth", path: "/api/v1/me", setup: plinth.apiKeyAuth },
  // The same request traced: every request (1.0), or 1 in 100 drawn at the entry (0.01), recorded and exported.
  {
    name: "plinth GET /api/v1/me (API key), tracing 1.0",
    worker: "otel-plinth-1.0",
    path: "/api/v1/me",
    setup: plinth.apiKeyAuth,
  },
  {
    name: "plinth GET /api/v1/me (API key), tracing 0.01",
    worker: "otel-plinth-0.01",
    path: "/api/v1/me",
    setup: plinth.apiKeyAuth,
  },
  { name: "plinth GET /api/v1/me (JWT)", worker: "plinth", path: "/api/v1/me", setup: plinth.jwtAuth },
  // The full stack: tenant from the key, API key, rate limits (async), RBAC (admin.settings.read), the tenant's directory.
  {
    name: "plinth GET /api/v1/admin/settings (API key, RBAC, rate limit)",
    worker: "plinth",
    path: "/api/v1/admin/settings",
    setup: plinth.apiKeyAuth,
  },
  // The rate limiter's decision in its other two ways, on the same request as "/me (API key)" (async).
  { name: "rate limit sync: GET /api/v1/me", worker: "plinth-sync", path: "/api/v1/me", setup: plinth.apiKeyAuth },
  {
    name: "rate limit blocked-until cache: GET /api/v1/me (429)",
    worker: "plinth-blocked",
    path: "/api/v1/me",
    expect: 429,
    // Spend the principal's one request, so every measured one is refused from the cache.
    setup: async (/** @type {string} */ origin) => {
      const prepared = await plinth.apiKeyAuth(origin);
      await fetch(new URL("/api/v1/me", origin), { headers: prepared.headers });
      return prepared;
    },
  },
  // The writes' own baseline: the same PATCHes, sequence and connections, on the bare DO command.
  ...[
    { name: "bare DO command (one object)", objects: 1 },
    { name: "bare DO command (100 objects)", objects: 100 },
  ].map((w) => ({
    ...w,
    worker: /** @type {const} */ ("do-command"),
    path: "/things/{id}",
    method: "PATCH",
    connections: writeConnections,
    setup: bareWrites(w.objects),
  })),
  ...[
    { name: "plinth PATCH post (one aggregate)", posts: { key: "one", count: 1 } },
    { name: "plinth PATCH post (100 aggregates)", posts: { key: "hundred", count: 100 } },
  ].map((w) => ({
    ...w,
    worker: /** @type {const} */ ("plinth"),
    path: "/api/v1/blog/posts/{id}", // each request's path comes from the set-up's sequence
    method: "PATCH",
    connections: writeConnections,
    setup: plinth.writes(w.posts.key, w.posts.count),
  })),
];

/**
 * The sequential series (lib/series.mjs), after the read rounds. `cases(origin)` is a series'
 * set-up, returning the requests to alternate; `warmup` untimed requests per case first (the
 * first unknown-email login also computes the dummy hash). Bounded whatever BENCH_LOGINS or
 * BENCH_RESETS says: a series stops, with fewer samples, after `budgetS`, and each request after
 * `timeoutS`.
 * @typedef {import("./lib/series.mjs").SeriesDef & { name: string, worker: keyof typeof WORKERS,
 *   warmup: number, budgetS: number, timeoutS: number, count: number,
 *   cases: (origin: string) => Promise<import("./lib/series.mjs").SeriesCase[]> }} Series
 */
/** @type {Series} */
const LOGIN = {
  name: "plinth POST /api/v1/auth/login",
  title: "Login (Argon2id)",
  request: "`POST /api/v1/auth/login`",
  reading: loginReading,
  worker: "plinth",
  cases: plinth.loginCases,
  count: logins,
  warmup: 2,
  budgetS: 90,
  timeoutS: 10,
};
/** @type {Series} */
const RESET = {
  name: "plinth POST /api/v1/auth/password-reset",
  title: "Password reset: existing vs unknown email",
  request: "`POST /api/v1/auth/password-reset`",
  reading: resetReading,
  worker: "plinth",
  cases: plinth.resetCases,
  count: resets,
  warmup: 5,
  budgetS: 60,
  timeoutS: 10,
};

/** The projection-latency series (lib/projection.mjs), on its own post, before the write phase; bounded likewise. */
const LAG = {
  name: "plinth PATCH post -> GET read model (projection latency)",
  key: "lag",
  warmup: 3,
  pollMs: 10,
  timeoutMs: 10_000,
  budgetMs: 180_000,
};
const BACKLOG_WAIT_S = 10; // after the write phase: at most this long watching the read model catch up
/**
 * Replayed after the write phase (lib/replay.mjs): the blog's state projection, caught up and
 * rebuilt, and the audit log's copy, caught up only (a rebuild of it is refused: it would leave
 * out the events of writers that keep no log, docs/events.md "Replay").
 */
const REPLAYED = [
  { consumer: "blog:blog.posts", modes: [false, true] },
  { consumer: "audit:log", modes: [false] },
];
const REPLAY_BUDGET_S = 120;
const CODEC = { name: "codec: DomainEvent JSON vs msgpackr vs cbor-x", rounds: 5 };

/** How the scenarios are set up, for the report's Method section. */
const METHOD_NOTES = [
  "Set-up, once, through plinth's own API on the started Worker: a tenant `bench` created with the platform root key (its `admin_key` is the API-key credential), and a user registered in it and logged in (its access token, valid 15 minutes, is the JWT credential; the bench logs in again if a measurement would outlive it). Every request of a read scenario is identical.",
  `Write scenarios (\`PATCH /api/v1/blog/posts/{id}\` with the admin key, \`{"content": …}\` of about 300 bytes, no If-Match): set-up creates 1 or 100 posts; the requests go to them in turn, each with new content (a counter), so every request appends one event (a PATCH that changes nothing appends none) through the post's Aggregate Durable Object, its outbox and the EVENTS queue to the queue() consumer, which projects it into D1. Their own baseline, "bare DO command", sends the same bodies in the same way to a Worker (\`bench/do-command\`) whose route calls a SQLite Durable Object per id that appends the change and stores the state in one transaction, and nothing else: what a command costs this runtime before any of plinth's work. They use ${writeConnections} connections (\`BENCH_WRITE_CONNECTIONS\`): with 50, workerd under Miniflare stopped serving new connections once the 100-aggregate load had built up, so the connections not served by then got no answer at all (autocannon timeouts). They run in their own interleaved rounds after everything else (the projection series, the logins and the codec comparison), because the consumer cannot keep up with them locally and the backlog they leave would slow whatever ran next; their ratios compare with the baseline measured earlier in the same run.`,
];

const scenarios = SCENARIOS.filter((s) => s.baseline || s.name.includes(filter));
const runLogins = logins > 0 && LOGIN.name.includes(filter);
const OVERLOAD_NAME = "rate limit overload (10x)";
const runOverload = OVERLOAD_NAME.includes(filter);
/** The overload runs' Workers, by the mode their principal policy decides in. */
const OVERLOAD_WORKERS = { sync: "plinth-over-sync", async: "plinth-over-async" };
/** The scenarios the "Rate limiting" section compares. */
const GATEWAY_NAMES = {
  baseline: "hello GET /",
  async: "plinth GET /api/v1/me (API key)",
  sync: "rate limit sync: GET /api/v1/me",
  blocked: "rate limit blocked-until cache: GET /api/v1/me (429)",
};
const runResets = resets > 0 && RESET.name.includes(filter);
const runLag = lagSamples > 0 && LAG.name.includes(filter);
const runCodecBench = codecIterations > 0 && CODEC.name.includes(filter);
const WASM_NAME = "wasm: crypto core vs @noble";
const runWasm = wasmBench > 0 && WASM_NAME.includes(filter);
const runWebhooks = webhookEvents > 0 && WEBHOOKS_NAME.includes(filter);

// Whole-run watchdog: measurements plus a generous allowance for builds, start-up and set-up.
const budgetS =
  scenarios.length * (method.warmup + method.rounds * method.duration) +
  (runLogins ? LOGIN.budgetS : 0) +
  (runResets ? RESET.budgetS : 0) +
  (runLag ? LAG.budgetMs / 1000 : 0) +
  (runCodecBench ? 60 : 0) +
  (runWebhooks ? 120 + method.rounds * 300 : 0) +
  (runWasm ? 120 : 0) +
  (runOverload ? 2 * (OVERLOAD_POLICY.period_s + 30) : 0) +
  (scenarios.some((s) => s.posts) ? BACKLOG_WAIT_S + 60 + REPLAY_BUDGET_S : 0) +
  180;
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
  stopProjection();
  await stopAll();
  await otlpSink.stop();
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

  // 0. The crypto core's micro-benchmark, first, while nothing else runs on the cores.
  if (runWasm) console.log(`bench: ${WASM_NAME}…`);
  const wasm = runWasm ? await wasmPhase({ root: ROOT, notes }) : null;

  // 1–2. Build and serve each Worker that a scenario or a series needs.
  const needed = new Set([
    ...scenarios.map((s) => s.worker),
    ...(runLogins ? [LOGIN.worker] : []),
    ...(runResets ? [RESET.worker] : []),
    ...(runLag ? ["plinth"] : []),
    ...(runOverload ? Object.values(OVERLOAD_WORKERS) : []),
    ...(runWebhooks ? ["plinth-webhooks"] : []),
  ]);
  const servers = await startAll({ workers: WORKERS, names: [...needed], notes });
  for (const s of scenarios.filter((x) => !servers.has(x.worker))) {
    skipped.set(s.name, `${s.worker} could not be built or started; see Notes`);
  }
  const baseline = scenarios.find((s) => s.baseline);
  if (!baseline || skipped.has(baseline.name)) {
    throw new Error("the baseline Worker is not available");
  }

  // 3. The read scenarios' interleaved rounds; the series and the codec comparison with no load
  // running; last, the write scenarios' rounds and a look at the read model's backlog.
  const origins = new Map([...servers].map(([name, server]) => [name, server.url.origin]));
  const plinthOrigin = origins.get("plinth");
  const reads = scenarios.filter((s) => !s.posts && !s.objects);
  const writes = scenarios.filter((s) => s.posts || s.objects);
  const results = await measure({ scenarios: reads, origins, method, notes, skipped });
  if (reads.some((s) => s.worker.startsWith("otel-"))) {
    const got = otlpSink.stats();
    notes.push(
      `The traced variants exported ${got.spans} spans in ${got.requests} OTLP/HTTP requests (${(got.bytes / 1e6).toFixed(1)} MB) to the bench's local sink${got.unparsed ? `; ${got.unparsed} bodies were not OTLP JSON` : ""}.`,
    );
  }
  const lagSetup = plinth.writes(LAG.key, 1);
  const lag = runLag
    ? await lagPhase({ ...LAG, origin: plinthOrigin, setup: lagSetup, count: lagSamples, notes })
    : null;
  const reset = runResets ? await seriesPhase({ ...RESET, origin: origins.get(RESET.worker), notes }) : null;
  const login = runLogins ? await seriesPhase({ ...LOGIN, origin: origins.get(LOGIN.worker), notes }) : null;
  const overload = runOverload
    ? await overloadRuns({
        origins,
        workers: OVERLOAD_WORKERS,
        setup: plinth.apiKeyAuth,
        policy: OVERLOAD_POLICY,
        notes,
      })
    : [];
  if (runCodecBench) console.log(`bench: ${CODEC.name}…`);
  const codec = runCodecBench ? await runCodec({ iterations: codecIterations, rounds: CODEC.rounds }) : null;
  const hooked = servers.get("plinth-webhooks");
  const webhooks =
    runWebhooks && hooked
      ? await webhooksPhase({
          origin: hooked.url.origin,
          rootKey: ROOT_KEY,
          sql: (query, params) => probeSql(hooked.mf, query, params),
          logs: hooked.logs,
          events: webhookEvents,
          several: webhookEndpoints,
          rounds: method.rounds,
          concurrency: writeConnections,
          batchTimeoutS: EVENTS_CONSUMER.maxBatchTimeout,
          notes,
        })
      : null;
  let backlog = null;
  /** @type {import("./lib/replay.mjs").ReplayRun[]} */
  const replays = [];
  let replayFailed = false;
  /** @type {{ before: import("./lib/projection.mjs").ConsumerFigures | null, afterWrites: import("./lib/projection.mjs").ConsumerFigures | null, afterProbe: import("./lib/projection.mjs").ConsumerFigures | null }} */
  const figures = { before: null, afterWrites: null, afterProbe: null };
  if (writes.length) {
    console.log(`bench: write phase (${writes.map((s) => s.name).join(", ")})…`);
    figures.before = plinthOrigin ? await consumerFigures(plinthOrigin, ROOT_KEY) : null;
    const writeResults = await measure({ scenarios: writes, origins, method, notes, skipped });
    for (const [name, rs] of writeResults) results.set(name, rs);
    figures.afterWrites = plinthOrigin ? await consumerFigures(plinthOrigin, ROOT_KEY) : null;
    const ran = writes.filter((s) => !skipped.has(s.name) && s.posts).map((s) => s.posts?.key ?? "");
    if (plinthOrigin && ran.length) {
      try {
        const { headers } = await plinth.apiKeyAuth(plinthOrigin);
        const paths = await plinth.postPaths(plinthOrigin, ran);
        backlog = await probeBacklog({ origin: plinthOrigin, headers, paths, waitMs: BACKLOG_WAIT_S * 1000 });
        figures.afterProbe = await consumerFigures(plinthOrigin, ROOT_KEY);
      } catch (err) {
        notes.push(`read-model backlog probe failed: ${brief(err)}`);
      }
      try {
        console.log(`bench: replay (${REPLAYED.map((r) => r.consumer).join(", ")})…`);
        for (const { consumer, modes } of REPLAYED) {
          for (const rebuild of modes) {
            replays.push(await replayOnce({ origin: plinthOrigin, rootKey: ROOT_KEY, consumer, rebuild }));
          }
        }
      } catch (err) {
        notes.push(`replay failed: ${brief(err)}`);
        replayFailed = true;
      }
    }
  }

  // 4. Aggregate and report.
  const rows = rowsOf(scenarios, results, skipped);
  notes.push(...runNotes(scenarios, results, servers));
  // plinth's writes only: the bare DO commands append no event.
  const writeRows = rows.filter((r) => writes.some((s) => s.name === r.name && s.posts) && !r.skipped);
  const events =
    lag || backlog
      ? projectionSection({
          series: lag,
          backlog,
          batchTimeoutS: EVENTS_CONSUMER.maxBatchTimeout,
          batchSize: EVENTS_CONSUMER.maxBatchSize,
          writeRps: Math.max(0, ...writeRows.map((r) => r.rps)),
          drainFailures: drainFailures(servers.get("plinth")?.logs),
          consumer: writes.length
            ? consumerSection({ ...figures, appendedPerS: Math.max(0, ...writeRows.map((r) => r.rps)) })
            : null,
        })
      : null;
  const goals = events
    ? goalsSection(
        pipelineFigures({
          rows,
          series: lag,
          figures,
          backlog,
          drainFailures: drainFailures(servers.get("plinth")?.logs)?.count ?? 0,
        }),
      )
    : null;
  // The cost of one write, for the codec reading: the unloaded PATCH, else the loaded one.
  const patchMs = lag?.writeMs.length ? median(lag.writeMs) : Math.min(...writeRows.map((r) => r.p50));
  const gateway = reads.some((s) => s.worker.startsWith("plinth-")) || overload.length > 0;
  const sections = [
    gateway ? gatewaySection({ results, names: GATEWAY_NAMES, overload, policy: OVERLOAD_POLICY }) : null,
    goals,
    events,
    replays.length ? replaySection(replays, Math.max(0, ...writeRows.map((r) => r.rps))) : null,
    login ? login.section : null,
    reset ? reset.section : null,
    codec ? codecSection(codec, patchMs) : null,
    webhooks ? webhooks.section : null,
    wasm ? wasm.section : null,
  ].filter((x) => x !== null);

  const tableMd = table(rows);
  writeReport(path.join(ROOT, "bench", "REPORT.md"), {
    date: new Date().toISOString(),
    machine,
    method,
    rows,
    methodNotes: METHOD_NOTES,
    sections: /** @type {string[]} */ (sections),
    notes,
  });
  console.log(`\n${tableMd}\n\n${reading(rows, method)}\n`);
  for (const section of sections) console.log(`${section}`);
  for (const n of notes) console.log(`note: ${n}`);
  console.log("bench: wrote bench/REPORT.md");
  const throughputOk = rows.every((r) => !r.skipped && r.non2xx + r.errors === 0);
  const lagOk = !runLag || (lag !== null && !lag.stoppedEarly && lag.timeouts + lag.failures.length === 0);
  const codecOk = !codec || codec.rows.every((r) => !r.error);
  const backlogOk = !writes.some((s) => !skipped.has(s.name)) || (backlog !== null && !replayFailed);
  const wasmOk = !runWasm || wasm !== null;
  // The sync limiter must never admit more than its policy allows; the async one may (deployed).
  const overloadOk =
    !runOverload ||
    (overload.length === Object.keys(OVERLOAD_WORKERS).length &&
      overload.every((r) => r.other === 0 && (r.mode !== "sync" || r.admitted <= r.bound)));
  const webhooksOk = !runWebhooks || (webhooks?.ok ?? false);
  const ok = throughputOk && lagOk && codecOk && backlogOk && wasmOk && overloadOk && webhooksOk;
  return ok && (login?.ok ?? true) && (reset?.ok ?? true) ? 0 : 1;
}

main()
  .then((code) => shutdown(code))
  .catch((err) => {
    console.error(`bench: ${err?.stack ?? err}`);
    return shutdown(1);
  });
