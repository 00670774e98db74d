/**
 * The declared permission or pattern nearest to one nobody declares, as a hint in a 400: a typo
 * (`blgo.*`, `blog.post.pubilsh`) is usually one or two keystrokes from what was meant. Only
 * candidates of the same shape count (an exact permission for an exact one, `<module>.*` for
 * `<module>.*`, `*.<action>` for `*.<action>`), and only within {@link MAX_DISTANCE} edits:
 * no hint is better than a wrong one.
 */

/** Edits (insert, delete, substitute, swap two neighbours) past which a name is not a typo of another. */
const MAX_DISTANCE = 2;

/** The declared names a typo of `value` may have meant: the candidates of its shape. */
function candidates(declared: readonly string[], value: string): string[] {
  if (value.startsWith("*.")) return [...new Set(declared.map((p) => `*.${p.slice(p.lastIndexOf(".") + 1)}`))];
  if (value.endsWith(".*")) return [...new Set(declared.map((p) => `${p.slice(0, p.indexOf("."))}.*`))];
  return [...declared];
}

/** The nearest candidate within {@link MAX_DISTANCE} edits (the first in sorted order on a tie), or null. */
export function nearestPermission(declared: readonly string[], value: string): string | null {
  let best: { name: string; distance: number } | null = null;
  for (const name of candidates(declared, value).sort()) {
    // Lengths further apart than the bound cannot be within it: skip the table.
    if (Math.abs(name.length - value.length) > MAX_DISTANCE) continue;
    const distance = editDistance(value, name);
    if (distance <= MAX_DISTANCE && (best === null || distance < best.distance)) best = { name, distance };
  }
  return best?.name ?? null;
}

/** Optimal string alignment distance: Levenshtein, plus a swap of two neighbours as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, at(i - 2, j - 2) + 1);
      row[j] = d;
    }
  }
  return at(a.length, b.length);
}
