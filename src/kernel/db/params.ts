/** D1 binds at most this many parameters per statement; longer lists are split across statements. */
export const D1_MAX_PARAMS = 100;

/** Splits `items` into runs of at most `size` (e.g. ids per `in (…)`, rows per insert). */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * `items` grouped by `key`, each group in the items' order and the groups in the order their
 * first item came. In one pass: a batch is often a single tenant's or stream's thousands of
 * events, and rebuilding each group's array per item (`[...group, item]`) made that quadratic.
 */
export function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
