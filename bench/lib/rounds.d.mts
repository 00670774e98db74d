/** Types of rounds.mjs for the TypeScript that imports it (the Node tests). */

/** First lines of an error, on one line, for the report. */
export function brief(err: unknown): string;

/**
 * One measurement, taken once more when it had connection errors and no non-2xx answer;
 * `said` hears the first attempt's error count. The second attempt is kept whatever it holds.
 */
export function againOnConnectionErrors<R extends { errors: number; non2xx: number }>(
  run: () => Promise<R>,
  said: (errors: number) => void,
): Promise<R>;

/** The bench's interleaved throughput rounds (see rounds.mjs). */
export function measure(opts: {
  scenarios: unknown[];
  origins: Map<string, string>;
  method: { connections: number; duration: number; rounds: number; warmup: number };
  notes: string[];
  skipped: Map<string, string>;
}): Promise<Map<string, unknown[]>>;
