import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { type Clock, isoIn } from "../../src/kernel/clock";
import type { JobResult } from "../../src/kernel/jobs/runner";
import type { ModuleDef } from "../../src/kernel/modules/types";
import type { Sleeper } from "../../src/kernel/resilience/sleep";
import { ERASURE_GRACE_MS, ERASURES_PER_RUN } from "../../src/modules/tenants/erasure-job";
import { runJobNamed } from "../helpers";

/** Waits for nothing: a failing run's attempts follow each other at once (their spacing is not what these tests check). */
export const noWait: Sleeper = { sleep: async () => {} };

/**
 * How many tenants `tenants/erase-deleted` finds due at `clock`'s time: every deleted tenant of
 * the D1 whose grace has passed, those other test files deleted and left included (the D1 is
 * shared by every file of a test worker, in any order).
 */
export async function dueErasures(clock: Clock): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from tenants where status = 'deleting' and deleted_at <= ?")
    .bind(isoIn(clock, -ERASURE_GRACE_MS))
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/**
 * Runs `tenants/erase-deleted`, each run at the next of `clocks` (a later fire time every
 * time), until `reached` holds, and returns the runs. A run takes at most
 * {@link ERASURES_PER_RUN} tenants, and other files' deleted tenants may be due before the
 * test's own, so its tenant need not be in the first run: the job reaches every due tenant
 * within ⌈due / per run⌉ runs, however many of them keep failing, and past that (one run
 * more, for a tenant that came due meanwhile) the wait fails.
 */
export async function eraseUntil(
  reached: () => Promise<boolean>,
  clocks: () => Clock,
  modules?: readonly ModuleDef[],
): Promise<JobResult[]> {
  const runs: JobResult[] = [];
  let clock = clocks();
  const bound = Math.ceil((await dueErasures(clock)) / ERASURES_PER_RUN) + 1;
  for (;;) {
    const run = await runJobNamed("tenants/erase-deleted", { clock, sleeper: noWait, ...(modules ? { modules } : {}) });
    expect(run.ran, JSON.stringify(run)).toBe(true);
    runs.push(run);
    if (await reached()) return runs;
    expect(runs.length, `not reached after ${runs.length} runs of tenants/erase-deleted`).toBeLessThan(bound);
    clock = clocks();
  }
}
