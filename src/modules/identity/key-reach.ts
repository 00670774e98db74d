import { covers, grants } from "../../kernel/auth/permissions";

/**
 * What an API key may do: its scopes, capped by what its creator chain holds now. A key created
 * by a user is capped by that user's current grants; a key minted by a key by that key's own
 * reach, and so on up to the user (or the platform: a tenant's first key and a recovery key are
 * capped by nothing but their scopes). Pure functions; the directory finds the caps, the
 * gateway and the policy apply them.
 */

/**
 * One link of a key's creator chain as it holds now: a key it was minted from (its scopes) or
 * the user at the root (their roles' grants). `owner`: whether the link holds `*` as an owner
 * does (a user holding `owner`, a key with scope `*`), which a user's `*` through `admin` is not.
 */
export interface KeyCap {
  grants: readonly string[];
  owner: boolean;
}

/** A link that holds nothing: a creator deleted, or a key revoked or expired, takes its keys' reach with it. */
export const NOTHING: KeyCap = { grants: [], owner: false };

/**
 * Whether `cap` holds `pattern` for delegation, as the policy counts holding: `*` only as an
 * owner, a pattern as itself or through `*`, an exact permission through any pattern granting it.
 */
export function capHolds(cap: KeyCap, pattern: string): boolean {
  return pattern === "*" ? cap.owner : covers(cap.grants, pattern);
}

/** The scopes some link of the chain no longer holds: what the key was given but cannot use now, sorted. */
export function withheldScopes(scopes: readonly string[], caps: readonly KeyCap[]): string[] {
  return [...new Set(scopes.filter((s) => caps.some((cap) => !capHolds(cap, s))))].sort();
}

/**
 * The permissions granted by both patterns, as patterns. Exact where a pattern can say it
 * (`*` ∩ x = x, `blog.*` ∩ `blog.post.read` = `blog.post.read`); `<module>.*` ∩ `*.<action>`
 * (every action of that name in the module) is no pattern of the grammar, so it is the
 * `declared` permissions both grant.
 */
export function intersectPattern(a: string, b: string, declared: readonly string[]): string[] {
  if (a === "*" || a === b) return [b];
  if (b === "*") return [a];
  if (!a.includes("*")) return grants([b], a) ? [a] : [];
  if (!b.includes("*")) return grants([a], b) ? [b] : [];
  // Two different patterns: `m.*` and `n.*` or `*.a` and `*.b` share nothing; `m.*` and `*.a` share `m.<any>.a`.
  if (a.startsWith("*.") === b.startsWith("*.")) return [];
  return declared.filter((p) => grants([a], p) && grants([b], p));
}

/** The patterns granting exactly what both lists grant (of the declared permissions, where no pattern says it). */
export function intersectGrants(a: readonly string[], b: readonly string[], declared: readonly string[]): string[] {
  const out = new Set<string>();
  for (const x of a) for (const y of b) for (const p of intersectPattern(x, y, declared)) out.add(p);
  return [...out].sort();
}

/**
 * What a key with `scopes` grants under `caps`: a permission is granted when the scopes and
 * every cap grant it, and a pattern is held (for delegation) when the scopes and every cap hold
 * it, so the request path's `grants()` and the policy's `covers()` both answer as they would
 * asking each list in turn. `*` stays only when every list has it.
 */
export function effectiveGrants(
  scopes: readonly string[],
  caps: readonly KeyCap[],
  declared: readonly string[],
): string[] {
  return caps.reduce<string[]>((held, cap) => intersectGrants(held, cap.grants, declared), [...new Set(scopes)].sort());
}
