/** D1 binds at most this many parameters per statement; longer lists are split across statements. */
export const D1_MAX_PARAMS = 100;

/** Splits `items` into runs of at most `size` (e.g. ids per `in (…)`, rows per insert). */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
