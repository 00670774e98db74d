import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import type { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { buildWorker } from "../../../bench/lib/build.mjs";
import { rateLimits } from "../../../bench/lib/plinth-config.mjs";
import {
  applyMigrations,
  type Logs,
  probeSql,
  type QueueConsumer,
  startWorker,
  stopWorker,
} from "../../../bench/lib/serve.mjs";
import { newSigningKeySet } from "../../../scripts/jwt-keys.mjs";
import { testWranglerConfig } from "../../../vitest.bindings";

/** A bundled plinth served by Miniflare on 127.0.0.1. */
export interface ServedWorker {
  origin: string;
  mf: Miniflare;
  /** The platform root key it was started with. */
  rootKey: string;
  logs: Logs;
  /**
   * Runs one statement on its D1 `DB` (through a probe Worker beside it: never Miniflare's
   * synchronous proxy, which can block a test's thread for good); its rows and changes.
   */
  sql(query: string, ...params: unknown[]): Promise<{ results: Record<string, unknown>[]; changes: number }>;
  /** Stops Miniflare and removes the bundle; safe to call twice. */
  stop(): Promise<void>;
}

/** `{ BINDING: { id } }` (wrangler's Miniflare options) as `{ BINDING: id }` (the bench's). */
function ids<T>(
  entries: Record<string, T> | undefined,
  pick: (value: T) => string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [binding, value] of Object.entries(entries ?? {})) {
    const id = typeof value === "string" ? value : pick(value);
    if (id) out[binding] = id;
  }
  return out;
}

/** What a test adds to the served Worker. */
export interface ServeOptions {
  /**
   * Plain-text bindings set last, over `wrangler.toml`'s vars and the defaults
   * here (e.g. `WEBHOOK_POLICY`, `ENCRYPTION_KEYS`).
   */
  vars?: Record<string, string>;
}

/**
 * Bundles the Worker as `npm run bench` does (`wrangler deploy --dry-run`) and
 * serves it with Miniflare, with the bindings of the top-level `wrangler.toml`
 * as wrangler itself reads them: D1 migrated from `migrations/`, the Durable
 * Objects, and the queues wired to the Worker's own queue() handler. Storage is
 * in memory; the secrets are fresh for each run.
 *
 * @example
 * const worker = await serveWorker(ROOT, { vars: { WEBHOOK_POLICY: '{"retry_base_ms":100}' } });
 */
export async function serveWorker(root: string, options: ServeOptions = {}): Promise<ServedWorker> {
  // Inside the project (git-ignored): workerd refuses module paths that leave its working directory.
  const scratch = path.join(root, ".wrangler", "tmp");
  mkdirSync(scratch, { recursive: true });
  const outdir = mkdtempSync(path.join(scratch, "proxy-"));
  // The copy the workerd suite reads too: wrangler would load a developer's .dev.vars beside the real one.
  const config = testWranglerConfig(path.join(root, "wrangler.toml"));
  let mf: Miniflare | undefined;
  const stop = async () => {
    const running = mf;
    mf = undefined;
    if (running) await stopWorker(running);
    rmSync(outdir, { recursive: true, force: true });
  };
  try {
    const toml = unstable_readConfig({ config });
    const scriptPath = await buildWorker({ root, main: toml.main ?? path.join(root, "src/index.ts"), outdir });
    const { workerOptions: w } = unstable_getMiniflareWorkerOptions(toml);
    const rootKey = randomBytes(32).toString("base64url");
    const vars = Object.fromEntries(Object.entries(w.bindings ?? {}).map(([k, v]) => [k, String(v)]));
    const server = await startWorker({
      scriptPath,
      compatibilityDate: w.compatibilityDate ?? "",
      compatibilityFlags: w.compatibilityFlags ?? [],
      // Per-request info lines would only be counted; warnings and errors are what a failure report needs.
      vars: {
        ...vars,
        LOG_LEVEL: "warn",
        PLATFORM_ROOT_KEY: rootKey,
        JWT_SIGNING_KEYS: newSigningKeySet(),
        // The sweep sends hundreds of requests from one address in seconds: limits it never meets,
        // still enforced (not off), so every answer carries the RateLimit headers clients read.
        RATE_LIMITS: rateLimits({}),
        ...options.vars,
      },
      d1Databases: ids(w.d1Databases as Record<string, { id?: string }>, (d) => d.id),
      queueProducers: ids(w.queueProducers as Record<string, { queueName?: string }>, (q) => q.queueName),
      queueConsumers: (w.queueConsumers ?? {}) as Record<string, QueueConsumer>,
      r2Buckets: ids(w.r2Buckets as Record<string, { id?: string }>, (b) => b.id),
      durableObjects: w.durableObjects as Record<string, { className: string; useSQLite?: boolean }>,
      sqlProbe: "DB",
    });
    mf = server.mf;
    for (const db of toml.d1_databases) {
      await applyMigrations(server.mf, db.binding, path.resolve(root, db.migrations_dir ?? "migrations"));
    }
    const sql = (query: string, ...params: unknown[]) => probeSql(server.mf, query, params);
    return { origin: server.url.origin, mf: server.mf, rootKey, logs: server.logs, sql, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
