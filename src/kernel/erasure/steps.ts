import type { ModuleDef, TenantErasure } from "../modules/types";

/** Destroying the tenant's key material: first, since it makes every sealed value unreadable at once. */
export const KEYS_STEP = "keys";
/** The tenant's event-sourced aggregates (one Durable Object per stream), found in the stream catalog. */
export const AGGREGATES_STEP = "aggregates";
/** The tenant's rows in every declared table with a `tenant_id` column: last, so nothing below refills them. */
export const TABLES_STEP = "tables";

/** One step of a tenant's erasure: its name (recorded when done) and what it runs. */
export interface ErasureStep {
  name: string;
  kind: "keys" | "module" | "aggregates" | "tables";
  /** For `module`: the module's hook. */
  erasure?: TenantErasure;
}

/**
 * The steps of a tenant's erasure, in order, from the modules' declarations alone: the
 * key material first (every module's `shred`, one step: the point of no return), then
 * each module's own data, dependents before what they depend on (a module's erase may
 * still ask its dependencies, never the other way round), the aggregates, and the rows
 * of the tables last. A step's name is what the progress records.
 */
export function erasureSteps(modules: readonly ModuleDef[]): ErasureStep[] {
  const steps: ErasureStep[] = [{ name: KEYS_STEP, kind: "keys" }];
  for (const m of [...modules].reverse()) {
    if (m.erasure?.erase) steps.push({ name: `module:${m.name}`, kind: "module", erasure: m.erasure });
  }
  steps.push({ name: AGGREGATES_STEP, kind: "aggregates" }, { name: TABLES_STEP, kind: "tables" });
  return steps;
}

/** The steps still to run, in order, given those recorded done (a run that died half way resumes here). */
export function remainingSteps(steps: readonly ErasureStep[], done: readonly string[]): ErasureStep[] {
  const finished = new Set(done);
  return steps.filter((s) => !finished.has(s.name));
}
