/**
 * `npm run bench:profile`: where the CPU of one kind of request goes. Serves plinth as the
 * bench does (Miniflare, in-memory storage), opens workerd's V8 inspector, samples the CPU
 * of the Worker's isolate (the Worker, its Durable Objects and its queue consumer share it)
 * while autocannon sends the chosen load, and prints the functions with the most self time
 * and the most inclusive time, grouped by source file.
 *
 *   node bench/profile.mjs [patch-one|patch-hundred|me] [seconds]
 *
 * PROFILE_TOP=n lists n functions (40); PROFILE_CALLERS=name,name also shows who calls
 * the functions whose labels contain those strings, four frames up. PROFILE_TRACING=ratio
 * serves plinth traced at that sampling ratio, exporting to a local OTLP sink.
 *
 * Not a benchmark: sampling slows the isolate down. Use it to find what to remove, then
 * measure the change with `npm run bench`.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { buildWorker } from "./lib/build.mjs";
import { plinthFixtures } from "./lib/fixtures.mjs";
import { load } from "./lib/load.mjs";
import { startOtlpSink } from "./lib/otlp-sink.mjs";
import { PLINTH_CONFIG, plinthTraced, ROOT_KEY } from "./lib/plinth-config.mjs";
import { consumerFigures } from "./lib/projection.mjs";
import { applyMigrations, startWorker, stopAll } from "./lib/serve.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const scenario = process.argv[2] ?? "patch-one";
const seconds = Number(process.argv[3] ?? 8);
const TOP = Number(process.env.PROFILE_TOP ?? 40);
const TRACING = process.env.PROFILE_TRACING;

const fixtures = plinthFixtures({
  rootKey: ROOT_KEY,
  slug: "bench",
  email: "bench@example.com",
  password: "bench-password-0123456789",
});

/** @type {Record<string, (origin: string) => Promise<any>>} */
const SCENARIOS = {
  "patch-one": (origin) =>
    fixtures
      .writes(
        "one",
        1,
      )(origin)
      .then((p) => ({ ...p, method: "PATCH" })),
  "patch-hundred": (origin) =>
    fixtures
      .writes(
        "hundred",
        100,
      )(origin)
      .then((p) => ({ ...p, method: "PATCH" })),
  me: (origin) => fixtures.apiKeyAuth(origin).then((p) => ({ ...p, method: "GET", path: "/api/v1/me" })),
};

/** A minimal Chrome DevTools Protocol client over one WebSocket. */
function cdp(/** @type {string} */ url) {
  const ws = new WebSocket(url);
  let id = 0;
  /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>} */
  const pending = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data));
    const waiter = msg.id === undefined ? undefined : pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(`${msg.error.message} (${msg.error.code})`));
    else waiter.resolve(msg.result);
  });
  const opened = new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return {
    opened,
    /** @param {string} method @param {object} [params] */
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const n = ++id;
        pending.set(n, { resolve, reject });
        ws.send(JSON.stringify({ id: n, method, params }));
      }),
    close: () => ws.close(),
  };
}

/**
 * Self and inclusive sample time per function (name, file, line) of a V8 CPU profile.
 * @param {{ nodes: { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }[], samples: number[], timeDeltas: number[] }} profile
 */
function summarise(profile) {
  /** @type {Map<number, (typeof profile.nodes)[number]>} */
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (/** @type {number} */ id) => {
    const f = /** @type {NonNullable<ReturnType<typeof byId.get>>} */ (byId.get(id)).callFrame;
    const file = f.url ? path.basename(f.url) : "";
    return `${f.functionName || "(anonymous)"} ${file}${file ? `:${f.lineNumber + 1}` : ""}`;
  };
  /** @type {Map<string, number>} time under each task the event loop ran: a partition of the samples */
  const roots = new Map();
  /** @type {Map<string, number>} */
  const self = new Map();
  /** @type {Map<string, number>} */
  const inclusive = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const own = label(id);
    self.set(own, (self.get(own) ?? 0) + dt);
    let top = id;
    for (let up = parent.get(top); up !== undefined && parent.get(up) !== undefined; up = parent.get(up)) top = up;
    const root = label(top);
    roots.set(root, (roots.get(root) ?? 0) + dt);
    const seen = new Set();
    for (let at = /** @type {number | undefined} */ (id); at !== undefined; at = parent.get(at)) {
      const l = label(at);
      if (seen.has(l)) continue; // recursion counts once
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
    }
  });
  // Who calls the functions named in PROFILE_CALLERS (comma-separated substrings), by time.
  /** @type {Map<string, number>} */
  const callers = new Map();
  const wanted = (process.env.PROFILE_CALLERS ?? "").split(",").filter(Boolean);
  if (wanted.length > 0) {
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i] ?? 0;
      for (let at = /** @type {number | undefined} */ (id); at !== undefined; at = parent.get(at)) {
        const l = label(at);
        if (!wanted.some((w) => l.includes(w))) continue;
        const chain = [];
        for (let up = parent.get(at); up !== undefined && chain.length < 4; up = parent.get(up)) chain.push(label(up));
        const key = `${l} <- ${chain.join(" <- ")}`;
        callers.set(key, (callers.get(key) ?? 0) + dt);
        break;
      }
    });
  }
  return { self, inclusive, total, callers, roots };
}

function print(/** @type {string} */ title, /** @type {Map<string, number>} */ m, /** @type {number} */ total) {
  console.log(`\n${title}`);
  const rows = [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  for (const [name, us] of rows) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(6)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  }
}

async function main() {
  const make = SCENARIOS[scenario];
  if (!make) throw new Error(`unknown scenario ${scenario}; one of ${Object.keys(SCENARIOS).join(", ")}`);
  const scriptPath = await buildWorker({
    root: ROOT,
    main: path.join(ROOT, "src", "index.ts"),
    outdir: path.join(ROOT, "bench", ".tmp", "profile"),
  });
  const sink = TRACING === undefined ? undefined : await startOtlpSink();
  const config = sink ? plinthTraced(sink.url, Number(TRACING)) : PLINTH_CONFIG;
  const { mf, url } = await startWorker({ ...config, scriptPath, inspector: true });
  await applyMigrations(mf, "DB", path.join(ROOT, "migrations"));
  const origin = url.origin;
  const prepared = await make(origin);
  // The port workerd bound for its inspector (ws://127.0.0.1:port); its target list is served over HTTP there.
  const inspectorPort = (await mf.getInspectorURL()).port;
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((/** @type {{ title: string }} */ t) => !t.title.startsWith("core:")) ?? targets[0];
  const client = cdp(target.webSocketDebuggerUrl);
  await client.opened;
  // Warm up untimed, then sample.
  const request = {
    url: new URL(prepared.path ?? "/", origin).href,
    method: prepared.method,
    headers: prepared.headers,
    next: prepared.next,
    connections: 10,
  };
  await load({ ...request, duration: 2 });
  await client.send("Profiler.enable");
  await client.send("Profiler.setSamplingInterval", { interval: 200 });
  await client.send("Profiler.start");
  const result = await load({ ...request, duration: seconds });
  const { profile } = /** @type {{ profile: any }} */ (await client.send("Profiler.stop"));
  client.close();
  const { self, inclusive, total, callers, roots } = summarise(profile);
  // What the consumers did meanwhile (queue batches and inline passes, counted in the isolate).
  const figures = await consumerFigures(origin, ROOT_KEY);
  console.log(
    `${scenario}: ${result.total} requests in ${seconds} s (${result.rps.toFixed(0)}/s while sampling, ${result.non2xx} non-2xx), ` +
      `${(total / 1000).toFixed(0)} ms sampled, ${(total / 1000 / Math.max(result.total, 1)).toFixed(3)} ms per request (target "${target.title}")`,
  );
  if (figures)
    console.log(`consumer figures since start: ${JSON.stringify({ queue: figures.queue, inline: figures.inline })}`);
  print("tasks (what the event loop ran, each sample counted once)", roots, total);
  print("self time", self, total);
  print("inclusive time", inclusive, total);
  if (callers.size > 0) print("callers (PROFILE_CALLERS)", callers, total);
  if (sink) console.log(`OTLP sink: ${JSON.stringify(sink.stats())}`);
  await sink?.stop();
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
