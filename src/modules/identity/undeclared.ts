import { grants, isPermissionPattern } from "../../kernel/auth/permissions";

/**
 * Permissions no registered module declares. A role or key keeps what it was given when a
 * module is removed from the deployment (docs/modules.md, "Removing a module"); such a
 * permission grants nothing, since no route asks for it, but a read shows it flagged, and a
 * write may keep it where it is held already, so a read-modify-write of a role still works.
 */

/**
 * Whether `permission` is one a request may name: declared by a module, or (where
 * `allowPatterns`) `*` or a well-formed pattern `<module>.*`, `*.<action>` covering at least one
 * declared permission. A pattern covering none grants nothing: a typo (`blgo.*`, `*.raed`), or
 * the pattern of a removed module, which is unknown as that module's exact permissions are.
 * `*` stays known whatever is declared: it is the owner's, and grants every future permission.
 */
export function isKnownPermission(declared: ReadonlySet<string>, permission: string, allowPatterns: boolean): boolean {
  if (declared.has(permission)) return true;
  if (!allowPatterns || !permission.includes("*") || !isPermissionPattern(permission)) return false;
  if (permission === "*") return true;
  for (const p of declared) if (grants([permission], p)) return true;
  return false;
}

/** The entries of `values` no module declares (nor any pattern among them covers), sorted and unique. */
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
