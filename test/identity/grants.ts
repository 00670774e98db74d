// What the registered modules grant the default roles, for tests that read a tenant's roles: the
// list grows with every module a team adds (plinth new module grants members its read), so a test
// that spelled out the blog's grants failed in every product's npm test once a module was added.
import { modules } from "../../src/modules";

/** `role`'s permissions in a new tenant: the registered modules' grants to it and `extra`, sorted as the directory creates the role. */
export function grantedTo(role: string, extra: readonly string[] = []): string[] {
  const granted = modules.flatMap((m) => m.grants?.[role] ?? []);
  return [...new Set([...granted, ...extra])].sort();
}

/** The grants a new tenant's directory records as applied (`<role> <permission>`), with `extra`, sorted. */
export function appliedGrants(extra: readonly string[] = []): string[] {
  const applied = modules.flatMap((m) =>
    Object.entries(m.grants ?? {}).flatMap(([role, permissions]) => permissions.map((p) => `${role} ${p}`)),
  );
  return [...new Set([...applied, ...extra])].sort();
}
