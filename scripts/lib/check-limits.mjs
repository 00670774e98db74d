// How long each check of `npm test` (scripts/check.mjs) may run before it counts as hung.
//
// A check without a progress file has one total limit, far above what it takes (the slowest
// takes under three minutes on two cores; installing Chromium from Debian can take several).
//
// A vitest suite with a progress file (scripts/lib/progress-reporter.mjs) is hung when that file
// records no event for IDLE_MINUTES, however long the suite has run: a hang is the absence of
// progress, not a long run. On a loaded machine the Node suite (~5 min when quiet) was stopped at
// its old 10-minute total with its last event 1 s old, and the whole suite run again. The idle
// bound is above the longest silence a suite that works can keep: one test or hook running to
// its own timeout (vitest then fails it, which is an event). The longest set is the 420 s
// beforeAll of test/node/scaffold.test.ts (a typecheck, lint and workerd run of a copy of the
// repository: 77 s without an event in a quiet run next to one other file); tests time out at
// 30 s (vitest*.config.ts), a few at 120-180 s; the reporter writes at each file's and test's
// start and end, a few seconds apart elsewhere. Importing a test file has no timeout, but takes
// seconds. CAP_MINUTES is the backstop for a suite that reports forever (a test in a loop):
// three times the 10 minutes a loaded machine took. (npm test runs a suite stopped at either
// bound once more, as before.)
const MINUTES = { quick: 5, tests: 10, install: 15 };
export const IDLE_MINUTES = 8;
export const CAP_MINUTES = 30;

/**
 * The limits of `step` for bounded-run's runCheck, in seconds. `PLINTH_CHECK_MINUTES` in `env`
 * sets every step's total limit (for a suite with a progress file, its backstop; the idle bound
 * stays, and is never longer than the total).
 * @param {{ size?: "quick" | "tests" | "install", progress?: string }} step
 * @param {{ PLINTH_CHECK_MINUTES?: string }} [env]
 * @returns {{ limitSeconds: number, idleSeconds?: number, progressFile?: string }}
 */
export function limitsOf(step, env = process.env) {
  const set = Number(env.PLINTH_CHECK_MINUTES) || undefined;
  if (step.progress === undefined) return { limitSeconds: 60 * (set ?? MINUTES[step.size ?? "quick"]) };
  const limitSeconds = 60 * (set ?? CAP_MINUTES);
  return { limitSeconds, idleSeconds: Math.min(60 * IDLE_MINUTES, limitSeconds), progressFile: step.progress };
}
