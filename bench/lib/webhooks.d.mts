import type { Logs } from "./serve.d.mts";

/** The scenario's name, which `BENCH_FILTER` matches. */
export const WEBHOOKS_NAME: string;

/** How the receiver answers on a path: 200, 500, 410, or never. */
export type Mode = "ok" | "fail" | "gone" | "hang";

/** One request as the receiver got it. */
export interface Received {
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The raw body, as signed. */
  body: string;
  /** What it answered; null while unanswered ("hang"). */
  status: number | null;
  /** Arrival, epoch ms. */
  at: number;
}

/** A webhook receiver on 127.0.0.1 whose answers are scripted per path. */
export interface Receiver {
  origin: string;
  /** Every request, in arrival order. */
  requests: Received[];
  /** A fresh path answering `mode` (default "ok"), and its URL. */
  path(label: string, mode?: Mode): { path: string; url: string };
  set(path: string, mode: Mode): void;
  on(path: string): Received[];
  /** The requests on `path` answered 2xx, in arrival order. */
  delivered(path: string): Received[];
  stop(): Promise<void>;
}

/** Starts a receiver; an unknown path answers 500. */
export function startReceiver(): Promise<Receiver>;

/** plinth as `config` serves it, plus the webhook actors, `ENCRYPTION_KEYS` and short retries. */
export function webhooksServe<C extends { vars: Record<string, string>; durableObjects: Record<string, object> }>(
  config: C,
): C & { sqlProbe: string };

/** One statement run on the Worker's D1: serve.mjs `probeSql` bound to its Miniflare. */
type Sql = (sql: string, params: unknown[]) => Promise<{ results: Record<string, unknown>[] }>;

/** The webhooks scenario; its report section, and whether every case completed without a duplicate. */
export function webhooksPhase(o: {
  origin: string;
  rootKey: string;
  sql: Sql;
  logs: Logs;
  events: number;
  several: number;
  rounds: number;
  concurrency: number;
  batchTimeoutS: number;
  notes: string[];
}): Promise<{ section: string; ok: boolean } | null>;
