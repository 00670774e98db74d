/**
 * Characters a permission (or pattern) has at most: a role's permissions and a key's scopes
 * are stored and answered with this bound, so the registry refuses a module declaring a longer one.
 */
export const MAX_PERMISSION_LENGTH = 128;

/**
 * Permission grants. A role or key scope is a list of patterns: an exact
 * permission (`blog.post.read`), `*` (every permission), `<module>.*`, or
 * `*.<action>` (that action on every resource, e.g. `*.read`).
 */
export function grants(patterns: readonly string[], permission: string): boolean {
  for (const p of patterns) {
    if (p === "*" || p === permission) return true;
    if (p.startsWith("*.") && permission.endsWith(p.slice(1))) return true;
    if (p.endsWith(".*") && permission.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}

/**
 * Whether `patterns` grant everything `pattern` grants, including permissions
 * that modules declare later. An exact permission is covered when granted; a
 * pattern only by itself or by `*` (`blog.*` does not cover `*.read`, and a
 * list of today's read permissions does not cover `*.read`, which grows).
 */
export function covers(patterns: readonly string[], pattern: string): boolean {
  if (!pattern.includes("*")) return grants(patterns, pattern);
  return patterns.includes("*") || patterns.includes(pattern);
}

/** The concrete permissions that `patterns` grant among `all`, sorted. */
export function expand(patterns: readonly string[], all: readonly string[]): string[] {
  return all.filter((p) => grants(patterns, p)).sort();
}

/** A pattern is well-formed: an exact permission, `*`, `<module>.*` or `*.<action>`. */
export function isPermissionPattern(pattern: string): boolean {
  return (
    pattern === "*" ||
    /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/.test(pattern) ||
    /^[a-z][a-z0-9_]*\.\*$/.test(pattern) ||
    /^\*\.[a-z][a-z0-9_]*$/.test(pattern)
  );
}
