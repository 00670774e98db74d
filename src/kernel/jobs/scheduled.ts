import { loadConfig } from "../config";
import { createLogger, errorFields } from "../log";
import { isolateMetrics } from "../metrics/flush";
import type { PlatformParts } from "../modules/types";
import type { Sleeper } from "../resilience/sleep";
import { TICK_MS } from "./cron";
import { jobsOf, runJob } from "./runner";

/**
 * Builds the Worker's `scheduled()` handler. wrangler.toml carries one
 * trigger, every minute; each tick at `scheduledTime` T runs, concurrently,
 * every job whose cron has a fire time in (T − 1 min, T], for that fire time
 * — or, when a tick was missed, the latest fire time within the job's
 * catch-up window (T − catch_up_ms, T] that has not run yet (its JobRunner
 * refuses a fire time not after the last one it granted).
 * Each run takes its job's lease first, so a second invocation for the same
 * tick (or a retried one) runs nothing twice. The invocation fails (so the
 * dashboard shows it) when a job failed, after all of them ran.
 */
export function createScheduledHandler(platform: PlatformParts & { sleeper?: Sleeper }) {
  const jobs = jobsOf(platform.modules);
  const { clock, sleeper } = platform;
  // Per isolate: the newest fire time each job is known to have had granted, so the ticks after a
  // run do not ask its JobRunner again for the same fire time while it stays in the catch-up window.
  const granted = new Map<string, number>();

  return async (controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> => {
    const result = loadConfig(env, platform.needs);
    if (!result.ok) {
      createLogger("info").error("config invalid; jobs not run", {
        variables: result.issues.map((i) => i.variable),
      });
      throw new Error("config_invalid");
    }
    const tick = controller.scheduledTime;
    const log = createLogger(result.config.logLevel, { component: "scheduler", tick: new Date(tick).toISOString() });
    const due = jobs.flatMap((entry) => {
      const fire = entry.schedule.firedIn(tick - Math.max(TICK_MS, entry.policy.catch_up_ms), tick);
      return fire === null || fire <= (granted.get(entry.name) ?? -1) ? [] : [{ entry, fire }];
    });
    if (due.length === 0) return;

    const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);
    const services = { env, config: result.config, log, clock, waitUntil, sleeper, modules: platform.modules };
    const outcomes = await Promise.allSettled(due.map(({ entry, fire }) => runJob(entry, services, fire, "cron")));
    let failed = 0;
    let ran = 0;
    outcomes.forEach((outcome, i) => {
      const job = due[i];
      if (job && outcome.status === "fulfilled" && (outcome.value.ran || outcome.value.reason === "already_ran")) {
        granted.set(job.entry.name, Math.max(granted.get(job.entry.name) ?? -1, job.fire));
      }
      if (outcome.status === "rejected") {
        failed++;
        log.error("job not run: its lease could not be asked for", {
          job: due[i]?.entry.name,
          ...errorFields(outcome.reason),
        });
      } else if (outcome.value.ran) {
        ran++;
        if (outcome.value.run.outcome !== "ok") failed++;
      }
    });
    isolateMetrics().maybeFlush(env, clock, waitUntil);
    if (failed > 0) throw new Error(`${failed} of ${due.length} due jobs failed`);
    log.debug("tick done", { due: due.length, ran });
  };
}
