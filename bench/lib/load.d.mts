/** Types of load.mjs for the TypeScript that imports it (the Node tests). */

/** workerd's keep-alive idle timeout, ms. */
export const IDLE_TIMEOUT_MS: number;

/** Resets of one instant that workerd's idle timeout explains. */
export interface Sweep {
  /** When the first came, ms after the load started. */
  atMs: number;
  count: number;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  /** Connection errors, timeouts included, without the resets of idle-timeout sweeps. */
  errors: number;
  errorKinds: Record<string, number>;
  statuses: Record<string, number>;
  /** Resets of workerd's idle-timeout sweeps, not in `errors`. */
  swept: number;
  sweeps: Sweep[];
}

/** The resets of a measurement's errors that workerd's idle-timeout sweeps explain (see load.mjs). */
export function idleSweeps(
  errors: { code: string; atMs: number }[],
  lastResponseAtMs: number,
): { swept: number; sweeps: Sweep[] };

/** Drives `url` with a fixed number of connections for `duration` seconds (autocannon). */
export function load(opts: {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  next?: () => { path: string; body: string };
  connections: number;
  duration: number;
  expect?: number;
  overallRate?: number;
}): Promise<LoadResult>;

/** Stops any autocannon run in progress. */
export function stopLoad(): void;

/** One request before measuring. */
export function preflight(req: {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}): Promise<{ ok: boolean; status: number; snippet: string }>;
