import type { Miniflare } from "miniflare";

/** Miniflare 4's names for wrangler's [[queues.consumers]] keys. */
export interface QueueConsumer {
  maxBatchSize?: number;
  /** Seconds. */
  maxBatchTimeout?: number;
  maxRetries?: number;
  deadLetterQueue?: string;
}

/** What one Worker bundle is served with. */
export interface WorkerServeOptions {
  /** The bundled entry module. */
  scriptPath: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** Plain-text bindings. */
  vars?: Record<string, string>;
  /** Binding -> database id. */
  d1Databases?: Record<string, string>;
  /** Binding -> queue name. */
  queueProducers?: Record<string, string>;
  /** Queue name -> consumer settings; the consumer is this Worker's own queue() handler. */
  queueConsumers?: Record<string, QueueConsumer>;
  /** Binding -> bucket name. */
  r2Buckets?: Record<string, string>;
  /** Binding -> Durable Object class exported by the bundle. */
  durableObjects?: Record<string, { className: string; useSQLite?: boolean }>;
  /** Opens workerd's V8 inspector on a port workerd picks (profile.mjs; `mf.getInspectorURL()` answers it); none by default. */
  inspector?: boolean;
  /** A D1 binding to serve the SQL probe for (probeSql): tests read D1 without the synchronous proxy. */
  sqlProbe?: string;
}

/** What a Worker logged: counted by kind (level and, for plinth's JSON lines, their `msg`), with the first line of each. */
export interface Logs {
  count: number;
  kinds: Map<string, { count: number; first: string }>;
}

/** The directory Miniflare's storage goes to (tmpfs when there is one), or null for the system's temporary directory. */
export function storageDir(): string | null;
/** Starts a Worker bundle on its own 127.0.0.1 port with in-memory storage. */
export function startWorker(opts: WorkerServeOptions): Promise<{ mf: Miniflare; url: URL; logs: Logs }>;
/** Stops one instance. */
export function stopWorker(mf: Miniflare): Promise<void>;
/** Stops every running instance (idempotent). */
export function stopAll(): Promise<void>;
/** Applies `dir/*.sql` to a D1 binding as `wrangler d1 migrations apply` does; resolves to the applied names. */
export function applyMigrations(mf: Miniflare, binding: string, dir: string): Promise<string[]>;
/** The host the SQL probe answers on. */
export const SQL_PROBE_HOST: string;
/** Runs one statement through the SQL probe of a Worker started with `sqlProbe`: its rows, and how many it changed. */
export function probeSql(
  mf: Miniflare,
  sql: string,
  params?: unknown[],
): Promise<{ results: Record<string, unknown>[]; changes: number }>;
