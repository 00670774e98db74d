import { isPermissionPattern } from "../../kernel/auth/permissions";

/**
 * Permissions no registered module declares. A role or key keeps what it was given when a
 * module is removed from the deployment (docs/modules.md, "Removing a module"); such a
 * permission grants nothing, since no route asks for it, but a read shows it flagged, and a
 * write may keep it where it is held already, so a read-modify-write of a role still works.
 */

/**
 * Whether `permission` is one a request may name: declared by a module, or (where
 * `allowPatterns`) a well-formed pattern `*`, `<module>.*`, `*.<action>`.
 */
export function isKnownPermission(declared: ReadonlySet<string>, permission: string, allowPatterns: boolean): boolean {
  return declared.has(permission) || (allowPatterns && permission.includes("*") && isPermissionPattern(permission));
}

/** The entries of `values` no module declares (patterns count as known), sorted and unique. */
export function undeclared(declared: ReadonlySet<string>, values: readonly string[]): string[] {
  return [...new Set(values.filter((p) => !isKnownPermission(declared, p, true)))].sort();
}

/**
 * A role as the API answers it: with `unknown_permissions` listing those it holds that no module
 * declares, when there are any (a role without leaves the field out, as every role did before).
 */
export function flagRole<R extends { permissions: readonly string[] }>(
  declared: ReadonlySet<string>,
  role: R,
): R & { unknown_permissions?: string[] } {
  const unknown = undeclared(declared, role.permissions);
  return unknown.length > 0 ? { ...role, unknown_permissions: unknown } : role;
}

/** An API key as the API answers it: with `unknown_scopes`, as {@link flagRole} does for a role. */
export function flagKey<K extends { scopes: readonly string[] }>(
  declared: ReadonlySet<string>,
  key: K,
): K & { unknown_scopes?: string[] } {
  const unknown = undeclared(declared, key.scopes);
  return unknown.length > 0 ? { ...key, unknown_scopes: unknown } : key;
}
