import type { ModuleDef } from "./types";

type Auth = NonNullable<ModuleDef["auth"]>;

/**
 * The parts of `ModuleDef.auth` that at most one registered module provides, each with how the
 * registry names it when a second one does. The kernel asks for each by this key
 * ({@link providerOf}), never by a module's name.
 */
export const SINGLE_PROVIDERS = {
  tenants: "a tenant lookup",
  members: "a member lookup",
  settings: "tenant settings",
  member_export: "a member export",
  tenant_seeds: "tenant seeds",
} as const satisfies Partial<Record<keyof Auth, string>>;

export type SingleProvided = keyof typeof SINGLE_PROVIDERS;

/** What the one module that provides `part` gives (`ModuleDef.auth[part]`), if any does. */
export function providerOf<K extends SingleProvided>(modules: readonly ModuleDef[], part: K): Auth[K] | undefined {
  for (const m of modules) {
    const provided = m.auth?.[part];
    if (provided !== undefined) return provided;
  }
  return undefined;
}
