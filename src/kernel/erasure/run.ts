import type { ModuleDef, ModuleRuntime } from "../modules/types";
import { type ErasureStep, erasureSteps, remainingSteps } from "./steps";
import { eraseTenantAggregates, eraseTenantRows } from "./tables";

/** Where a tenant's erasure records its progress (the registry row, in the tenants module). */
export interface ErasureProgress {
  /** The steps recorded done by earlier runs. */
  done: readonly string[];
  /** Records a step done, before the next starts. */
  record(step: string): Promise<void>;
}

/** What a finished erasure did: its steps, and the rows deleted by table (for the platform-side record). */
export interface ErasureReport {
  steps: string[];
  rows: Record<string, number>;
  aggregates: number;
}

/**
 * Erases one tenant: runs the steps not yet recorded done, in order, recording each
 * as it ends; throws the first failure, so the caller's next run resumes from that
 * step (every step is safe to run again). Never names a module: it runs what the
 * modules declare (ModuleDef.erasure, their tables, their aggregates).
 */
export async function eraseTenant(
  modules: readonly ModuleDef[],
  tenantId: string,
  runtime: ModuleRuntime,
  progress: ErasureProgress,
): Promise<ErasureReport> {
  const report: ErasureReport = { steps: [], rows: {}, aggregates: 0 };
  for (const step of remainingSteps(erasureSteps(modules), progress.done)) {
    await runStep(step, modules, tenantId, runtime, report);
    await progress.record(step.name);
    report.steps.push(step.name);
  }
  return report;
}

async function runStep(
  step: ErasureStep,
  modules: readonly ModuleDef[],
  tenantId: string,
  runtime: ModuleRuntime,
  report: ErasureReport,
): Promise<void> {
  switch (step.kind) {
    case "keys":
      for (const m of modules) await m.erasure?.shred?.(tenantId, runtime);
      return;
    case "module":
      await step.erasure?.erase?.(tenantId, runtime);
      return;
    case "aggregates":
      report.aggregates = await eraseTenantAggregates(runtime.env, modules, tenantId);
      return;
    case "tables":
      report.rows = await eraseTenantRows(runtime.env, modules, tenantId);
      return;
  }
}
