/**
 * Serving: one Miniflare instance per bundle, each on its own 127.0.0.1 port, in-memory storage.
 */
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { Miniflare } from "miniflare";

/** Same defaults as wrangler, so imports of .wasm/.txt/... in a bundle resolve alike. */
const MODULE_RULES = [
  { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
  { type: "CompiledWasm", include: ["**/*.wasm", "**/*.wasm?module"] },
  { type: "Text", include: ["**/*.txt", "**/*.html", "**/*.sql"] },
  { type: "Data", include: ["**/*.bin"] },
];

/** @type {Set<Miniflare>} every instance still running, so all can be stopped on exit. */
const running = new Set();

/** @returns {Promise<number>} a currently free TCP port on 127.0.0.1 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {net.AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/**
 * @typedef {object} WorkerServeOptions
 * @property {string} scriptPath bundled entry module
 * @property {string} compatibilityDate
 * @property {string[]} compatibilityFlags
 * @property {Record<string, string>} [vars] plain-text bindings
 * @property {Record<string, string>} [d1Databases] binding -> database id
 * @property {Record<string, string>} [queueProducers] binding -> queue name
 * @property {Record<string, string>} [r2Buckets] binding -> bucket name
 * @property {Record<string, { className: string, useSQLite?: boolean }>} [durableObjects]
 *   binding -> Durable Object class exported by the bundle
 */

/**
 * Start a Worker bundle. Worker log lines are counted (and a few kept) instead of printed,
 * so they do not distort the measurement; the caller reports them.
 * @param {WorkerServeOptions} opts
 * @returns {Promise<{ mf: Miniflare, url: URL, logs: { count: number, sample: string[] } }>}
 */
export async function startWorker(opts) {
  const logs = { count: 0, sample: /** @type {string[]} */ ([]) };
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: await freePort(),
    modules: true,
    modulesRules: MODULE_RULES,
    scriptPath: opts.scriptPath,
    compatibilityDate: opts.compatibilityDate,
    compatibilityFlags: opts.compatibilityFlags,
    bindings: opts.vars ?? {},
    d1Databases: opts.d1Databases ?? {},
    queueProducers: opts.queueProducers ?? {},
    r2Buckets: opts.r2Buckets ?? {},
    durableObjects: opts.durableObjects ?? {},
    // Persist nothing: all storage lives in a temporary directory removed on dispose().
    d1Persist: false,
    r2Persist: false,
    kvPersist: false,
    cachePersist: false,
    durableObjectsPersist: false,
    cf: false, // do not fetch cf.json from the network
    logRequests: false,
    handleStructuredLogs: (/** @type {{ level: string, message: string }} */ { level, message }) => {
      logs.count++;
      if (logs.sample.length < 5) logs.sample.push(`[${level}] ${message}`.slice(0, 500));
    },
  });
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
 * does: each file's statements plus its row in `d1_migrations`, in one batch per file.
 * @param {Miniflare} mf
 * @param {string} binding e.g. "DB"
 * @param {string} dir migrations directory
 * @returns {Promise<string[]>} names of the applied files
 */
export async function applyMigrations(mf, binding, dir) {
  const { unstable_splitSqlQuery: splitSql } = await import("wrangler");
  const db = await mf.getD1Database(binding);
  await db
    .prepare(
      `CREATE TABLE IF NOT EXISTS d1_migrations(
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);`,
    )
    .run();
  const names = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const name of names) {
    const queries = splitSql(readFileSync(path.join(dir, name), "utf8"));
    const statements = queries.map((q) => db.prepare(q));
    statements.push(db.prepare("INSERT INTO d1_migrations (name) VALUES (?);").bind(name));
    await db.batch(statements);
  }
  return names;
}
