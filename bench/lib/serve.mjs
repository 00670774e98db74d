/**
 * Serving: one Miniflare instance per bundle, each on its own 127.0.0.1 port, in-memory storage.
 */
import { accessSync, constants, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { buildWorker } from "./build.mjs";
import { brief } from "./rounds.mjs";

/** Same defaults as wrangler, so imports of .wasm/.txt/... in a bundle resolve alike. */
const MODULE_RULES = [
  { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
  { type: "CompiledWasm", include: ["**/*.wasm", "**/*.wasm?module"] },
  { type: "Text", include: ["**/*.txt", "**/*.html", "**/*.sql"] },
  { type: "Data", include: ["**/*.bin"] },
];

/**
 * Where Miniflare keeps the "unpersisted" storage of a run: its temporary directory. On a
 * disk, every Durable Object and D1 commit reaches the file system (SQLite syncs) on workerd's
 * one thread, which measured 20–40% of the write scenarios' throughput on this machine
 * (2026-12-02, 100 aggregates: 257 vs 368 PATCH/s) — a cost of the local set-up, not of
 * plinth. So storage goes to memory (tmpfs `/dev/shm`) when there is one, as the report's
 * Method says; `BENCH_TMPDIR` chooses another directory.
 */
export function storageDir() {
  const wanted = process.env.BENCH_TMPDIR ?? "/dev/shm";
  try {
    accessSync(wanted, constants.W_OK);
    return wanted;
  } catch {
    return null;
  }
}

/** @type {Set<Miniflare>} every instance still running, so all can be stopped on exit. */
const running = new Set();

/**
 * @typedef {object} WorkerServeOptions
 * @property {string} scriptPath bundled entry module
 * @property {string} compatibilityDate
 * @property {string[]} compatibilityFlags
 * @property {Record<string, string>} [vars] plain-text bindings
 * @property {Record<string, string>} [d1Databases] binding -> database id
 * @property {Record<string, string>} [queueProducers] binding -> queue name
 * @property {Record<string, QueueConsumer>} [queueConsumers] queue name -> consumer settings;
 *   the consumer is this Worker's own queue() handler
 * @property {Record<string, string>} [r2Buckets] binding -> bucket name
 * @property {Record<string, { className: string, useSQLite?: boolean }>} [durableObjects]
 *   binding -> Durable Object class exported by the bundle
 * @property {boolean} [inspector] opens workerd's V8 inspector on a port workerd picks
 *   (profile.mjs; `mf.getInspectorURL()` answers it)
 * @property {string} [sqlProbe] a D1 binding to serve the SQL probe for ({@link probeSql})
 */

/**
 * @typedef {object} QueueConsumer Miniflare 4's names for wrangler's [[queues.consumers]] keys
 * @property {number} [maxBatchSize] max_batch_size
 * @property {number} [maxBatchTimeout] max_batch_timeout, seconds
 * @property {number} [maxRetries] max_retries
 * @property {string} [deadLetterQueue] dead_letter_queue
 */

/**
 * @typedef {object} Logs what a Worker logged: counted by kind (level and, for plinth's JSON
 *   lines, their `msg`), with the first line of each kind
 * @property {number} count
 * @property {Map<string, { count: number, first: string }>} kinds
 */

/** The kind of a log line: its level, plus the `msg` of a JSON line. */
function logKind(/** @type {string} */ level, /** @type {string} */ message) {
  try {
    const msg = JSON.parse(message)?.msg;
    if (typeof msg === "string") return `[${level}] ${msg.slice(0, 80)}`;
  } catch {}
  return `[${level}] ${message.slice(0, 60)}`;
}

/** Counts a line into `logs` by kind (the first 50 kinds keep their first line). */
function count(/** @type {Logs} */ logs, /** @type {string} */ kind, /** @type {string} */ line) {
  logs.count++;
  const k = logs.kinds.get(kind);
  if (k) k.count++;
  else if (logs.kinds.size < 50) logs.kinds.set(kind, { count: 1, first: line.slice(0, 400) });
}

/**
 * Miniflare's own warnings and errors (its queue broker's among them), counted like the
 * Worker's lines instead of printed or dropped: without a log Miniflare discards them, and a
 * broker failure reaches the Worker only as `Unknown Internal Error (15000)`.
 */
class CountingLog extends Log {
  /** @param {Logs} logs */
  constructor(logs) {
    super(LogLevel.WARN);
    this.logs = logs;
  }

  /** @param {string} message */
  log(message) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colours of Miniflare's lines
    const line = message.replace(/\x1b\[[0-9;]*m/g, "");
    count(this.logs, `[miniflare] ${line.replace(/^\[[^\]]*\]\s*/, "").slice(0, 70)}`, line);
  }
}

/**
 * A second Worker served beside the bundle when `sqlProbe` names a D1 binding: it runs one
 * statement on the same database and answers its rows, so a Node test reads and writes D1
 * through `dispatchFetch` (asynchronous), never through Miniflare's synchronous proxy
 * (`getD1Database(...).prepare`), whose `Atomics.wait` blocks the test's thread for good when
 * a reply goes missing.
 */
export const SQL_PROBE_HOST = "sql-probe.test";
const SQL_PROBE = `export default {
  async fetch(request, env) {
    const { sql, params } = await request.json();
    try {
      const { results, meta } = await env.DB.prepare(sql).bind(...params).all();
      return Response.json({ results, changes: meta.changes });
    } catch (error) {
      return Response.json({ error: String(error && error.message || error) }, { status: 500 });
    }
  },
};`;

/**
 * Runs one statement through the SQL probe of a Worker started with `sqlProbe`: its rows, and
 * how many rows it changed.
 * @param {Miniflare} mf
 * @param {string} sql
 * @param {unknown[]} [params]
 * @returns {Promise<{ results: Record<string, unknown>[], changes: number }>}
 */
export async function probeSql(mf, sql, params = []) {
  const res = await mf.dispatchFetch(`http://${SQL_PROBE_HOST}/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sql, params }),
  });
  const body = /** @type {any} */ (await res.json());
  if (!res.ok) throw new Error(`sql probe: ${body.error ?? res.status}: ${sql}`);
  return body;
}

/**
 * Start a Worker bundle. Worker log lines are counted by kind instead of printed, so they do
 * not distort the measurement; the caller reports them. So are Miniflare's own warnings.
 * @param {WorkerServeOptions} opts
 * @returns {Promise<{ mf: Miniflare, url: URL, logs: Logs }>}
 */
export async function startWorker(opts) {
  /** @type {Logs} */
  const logs = { count: 0, kinds: new Map() };
  // Miniflare takes its temporary directory from TMPDIR (os.tmpdir()) when it starts.
  const dir = storageDir();
  if (dir) process.env.TMPDIR = dir;
  const worker = {
    modules: true,
    modulesRules: MODULE_RULES,
    scriptPath: opts.scriptPath,
    // Module names are paths relative to this root; workerd refuses a name that starts with
    // "..", which a bundle outside the working directory (bench:ab's other checkout) would get.
    modulesRoot: path.dirname(opts.scriptPath),
    compatibilityDate: opts.compatibilityDate,
    compatibilityFlags: opts.compatibilityFlags,
    bindings: opts.vars ?? {},
    d1Databases: opts.d1Databases ?? {},
    queueProducers: opts.queueProducers ?? {},
    queueConsumers: opts.queueConsumers ?? {},
    r2Buckets: opts.r2Buckets ?? {},
    durableObjects: opts.durableObjects ?? {},
  };
  const shared = {
    host: "127.0.0.1",
    // 0: workerd binds a free port itself (mf.ready answers it); a port picked here first and bound
    // later could be taken meanwhile by another process (ERR_ADDRESS_IN_USE, seen in CI).
    port: 0,
    // Persist nothing: all storage lives in a temporary directory removed on dispose().
    d1Persist: false,
    r2Persist: false,
    kvPersist: false,
    cachePersist: false,
    durableObjectsPersist: false,
    cf: false, // do not fetch cf.json from the network
    // 0 as for `port`: workerd binds the inspector's port itself, so no probe's port can be taken meanwhile.
    ...(opts.inspector ? { inspectorPort: 0 } : {}),
    logRequests: false,
    log: new CountingLog(logs),
    handleStructuredLogs: (/** @type {{ level: string, message: string }} */ { level, message }) =>
      count(logs, logKind(level, message), message),
  };
  const probe = opts.sqlProbe === undefined ? undefined : opts.d1Databases?.[opts.sqlProbe];
  if (opts.sqlProbe !== undefined && probe === undefined) throw new Error(`sqlProbe: no D1 binding ${opts.sqlProbe}`);
  const mf = new Miniflare(
    probe === undefined
      ? { ...shared, ...worker }
      : {
          ...shared,
          workers: [
            { name: "plinth", ...worker },
            {
              name: "sql-probe",
              modules: true,
              script: SQL_PROBE,
              compatibilityDate: opts.compatibilityDate,
              d1Databases: { DB: probe },
              routes: [`${SQL_PROBE_HOST}/*`],
            },
          ],
        },
  );
  running.add(mf);
  const url = await mf.ready;
  return { mf, url, logs };
}

/**
 * Stop one instance.
 * @param {Miniflare} mf
 */
export async function stopWorker(mf) {
  if (running.delete(mf)) await mf.dispose();
}

/** Stop every running instance (idempotent; safe to call from signal handlers). */
export async function stopAll() {
  const all = [...running];
  running.clear();
  await Promise.allSettled(all.map((mf) => mf.dispose()));
}

/**
 * Apply `dir/*.sql` (sorted by name) to a D1 binding the way `wrangler d1 migrations apply`
 * does: each file's statements plus its row in `d1_migrations` (through `exec`; see below).
 * @param {Miniflare} mf
 * @param {string} binding e.g. "DB"
 * @param {string} dir migrations directory
 * @returns {Promise<string[]>} names of the applied files
 */
export async function applyMigrations(mf, binding, dir) {
  const { unstable_splitSqlQuery: splitSql } = await import("wrangler");
  const db = await mf.getD1Database(binding);
  // Only D1's asynchronous `exec`, never `prepare`: `prepare` is a synchronous call through
  // Miniflare's proxy, whose reply can go missing on a loaded machine (an assertion inside
  // miniflare's fetch-sync, `message?.id === id`), and once one is missing the next replies
  // are out of step too, so retrying did not help (seen in CI on metrics-promtool). `exec`
  // takes one statement per line: each is put on one line (the migrations hold no string
  // that spans lines). Not one transaction per file, as wrangler's is: these databases are
  // fresh ones for the bench and the Node tests, and a failed migration fails the start.
  // A whole-line `--` comment goes first (wrangler's splitter hands back a file of one statement as it
  // is, comments and all): put on the statement's one line, it would comment out the statement itself.
  const oneLine = (q) =>
    q
      .split("\n")
      .filter((line) => !line.trim().startsWith("--"))
      .join("\n")
      .replace(/\s*\n\s*/g, " ")
      .trim();
  await db.exec(
    oneLine(`CREATE TABLE IF NOT EXISTS d1_migrations(
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)`),
  );
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const name of names) {
    const queries = splitSql(readFileSync(path.join(dir, name), "utf8"));
    const record = `INSERT INTO d1_migrations (name) VALUES ('${name.replace(/'/g, "''")}')`;
    await db.exec([...queries, record].map(oneLine).join("\n"));
  }
  return names;
}

/**
 * Build and start each named Worker (and apply its D1 migrations). A Worker that fails is
 * left out of the result, with the reason in `notes`.
 * @param {{ workers: Record<string, { build: import("./build.mjs").BuildOptions,
 *   serve: Omit<WorkerServeOptions, "scriptPath">, migrations?: { binding: string, dir: string } }>,
 *   names: string[], notes: string[] }} opts
 * @returns {Promise<Map<string, Awaited<ReturnType<typeof startWorker>>>>} name -> running server
 */
export async function startAll({ workers, names, notes }) {
  const servers = new Map();
  for (const name of names) {
    const w = workers[name];
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
    }
  }
  return servers;
}
