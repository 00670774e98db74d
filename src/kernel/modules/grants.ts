import type { RegistryProblem } from "./registry";
import type { ModuleDef } from "./types";

/** Permissions modules add to the default roles, by role name: each list sorted, without repeats. */
export type RoleGrants = Readonly<Record<string, string[]>>;

/**
 * What is wrong with the modules' `grants`: a module grants only permissions it declares
 * itself (so no module widens another's reach, and no pattern such as `orders.*`), and only
 * to a default role the module providing them (`auth.roles`) names. The kernel knows no role
 * by name: it checks against what that module declares.
 */
export function grantProblems(defs: readonly ModuleDef[]): RegistryProblem[] {
  const problems: RegistryProblem[] = [];
  const providers = defs.filter((d) => d.auth?.roles !== undefined);
  for (const extra of providers.slice(1)) {
    problems.push({
      module: extra.name,
      problem: `provides default roles, but module "${providers[0]?.name}" already does`,
    });
  }
  const roles = providers[0]?.auth?.roles;
  for (const def of defs) {
    const own = new Set(def.permissions ?? []);
    for (const [role, permissions] of Object.entries(def.grants ?? {})) {
      const say = (problem: string) => problems.push({ module: def.name, problem });
      for (const permission of permissions) {
        if (!own.has(permission)) {
          say(`grants "${permission}" to the default role "${role}", but a module grants only permissions it declares`);
        } else if (permission.startsWith("admin.")) {
          // An `admin.*` permission administers the tenant (and puts its holder under
          // `require_two_factor_for_admins`): the roles holding every permission have it already,
          // and a tenant admin hands it to others by editing a role, never a module by default.
          say(
            `grants "${permission}" to the default role "${role}", but admin.* permissions are not granted by default`,
          );
        }
      }
      if (roles === undefined)
        say(`grants to the role "${role}", but no registered module provides default roles (auth.roles)`);
      else if (!roles.includes(role)) {
        say(`grants to the role "${role}", which is not a default role (${roles.join(", ")})`);
      }
    }
  }
  return problems;
}

/** Every module's grants, merged by role. */
export function roleGrants(defs: readonly ModuleDef[]): RoleGrants {
  const merged = new Map<string, Set<string>>();
  for (const def of defs) {
    for (const [role, permissions] of Object.entries(def.grants ?? {})) {
      const set = merged.get(role) ?? new Set<string>();
      for (const permission of permissions) set.add(permission);
      merged.set(role, set);
    }
  }
  return Object.fromEntries([...merged].map(([role, set]) => [role, [...set].sort()]));
}
