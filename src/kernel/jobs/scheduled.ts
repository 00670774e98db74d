import { loadConfig } from "../config";
import { createLogger, errorFields } from "../log";
import type { PlatformParts } from "../modules/types";

/**
 * Builds the Worker's `scheduled()` handler: runs every module job whose
 * cron is the one that fired, concurrently, and fails the invocation (so the
 * dashboard shows it) when any job failed, after all of them ran.
 */
export function createScheduledHandler({ modules, bindings, clock }: PlatformParts) {
  const jobs = modules.flatMap((m) => (m.jobs ?? []).map((job) => ({ module: m.name, job })));

  return async (controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> => {
    const result = loadConfig(env, bindings);
    if (!result.ok) {
      createLogger("info").error("config invalid; jobs not run", {
        variables: result.issues.map((i) => i.variable),
      });
      throw new Error("config_invalid");
    }
    const log = createLogger(result.config.logLevel, { cron: controller.cron });
    const due = jobs.filter(({ job }) => job.cron === controller.cron);
    const outcomes = await Promise.allSettled(
      due.map(({ module, job }) =>
        job.run({
          env,
          config: result.config,
          log: log.child({ module, job: job.name }),
          clock,
          waitUntil: (p) => ctx.waitUntil(p),
          scheduledTime: controller.scheduledTime,
        }),
      ),
    );
    let failed = 0;
    outcomes.forEach((outcome, i) => {
      const entry = due[i];
      if (outcome.status === "rejected" && entry) {
        failed++;
        log.error("job failed", { module: entry.module, job: entry.job.name, ...errorFields(outcome.reason) });
      }
    });
    log.info("cron ran", { jobs: due.length, failed });
    if (failed > 0) throw new Error(`${failed} of ${due.length} jobs failed`);
  };
}
