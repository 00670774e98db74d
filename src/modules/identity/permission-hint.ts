/**
 * The declared permission or pattern nearest to one nobody declares, as a hint in a 400: a typo
 * (`blgo.*`, `blog.post.pubilsh`) is usually one or two keystrokes from what was meant. Only
 * candidates of the same shape count (an exact permission for an exact one, `<module>.*` for
 * `<module>.*`, `*.<action>` for `*.<action>`), and only within {@link MAX_DISTANCE} edits:
 * no hint is better than a wrong one.
 */

/** How many permissions a misshapen pattern's message names before it says how many more. */
const MAX_LISTED = 8;

/**
 * The declared permissions a wildcard in a shape no pattern has (`blog.post.*`, `blog.*.read`)
 * would have matched as a glob, for the 400 that refuses it: webhook filters take
 * `blog.post.*`, so an admin writes it in a role too, and "unknown permission blog.post.*"
 * left them guessing whether `blog.post` was misspelt. Naming the permissions one by one is
 * the way to grant them; a wider pattern (`blog.*`) is not suggested, as it grants more.
 */
export function misshapenPatternMessage(declared: readonly string[], value: string): string {
  const matched = [...new Set(declared)].filter((p) => globMatches(value, p)).sort();
  const why = `${value} is not a pattern (a pattern is *, <module>.* or *.<action>)`;
  if (matched.length === 0) return why;
  const listed = matched.slice(0, MAX_LISTED).join(", ");
  const more = matched.length > MAX_LISTED ? ` and ${matched.length - MAX_LISTED} more` : "";
  return `${why}: name the permissions it meant one by one: ${listed}${more}`;
}

/**
 * Whether `name` matches `glob`, whose `*` stands for any run of characters: the two-pointer
 * walk that goes back only to the last `*`, linear-ish in the lengths, where a RegExp built
 * from a body's `*.*.*.*…` could backtrack for long.
 */
function globMatches(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (g < glob.length && glob[g] !== "*" && glob[g] === name[n]) {
      g++;
      n++;
    } else if (g < glob.length && glob[g] === "*") {
      star = g++;
      resume = n;
    } else if (star >= 0) {
      g = star + 1;
      n = ++resume;
    } else return false;
  }
  while (g < glob.length && glob[g] === "*") g++;
  return g === glob.length;
}

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
