import { errorFields, errorText, type Logger, redact } from "../log";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";
import type { JobDef, ModuleDef, ModuleRuntime } from "../modules/types";
import { loggedWaitUntil } from "../modules/wait-until";
import { retry } from "../resilience/retry";
import { realSleeper, type Sleeper } from "../resilience/sleep";
import { type AttemptRecord, ERROR_CHARS, JobSummary, jobRunner, RESULT_CHARS, type RunRecord } from "./contract";
import { type CronSchedule, cronSchedule } from "./cron";
import type { Lease, Refusal, Trigger } from "./lease";
import { type JobPolicy, jobPolicy } from "./policy";

/** A registered job: its module, its definition, its compiled cron and its policy. */
export interface JobEntry {
  /** `<module>/<job>`. */
  name: string;
  module: string;
  def: JobDef;
  schedule: CronSchedule;
  policy: JobPolicy;
}

/** Every job the modules declare, in module order; the registry has checked their crons. */
export function jobsOf(modules: readonly ModuleDef[]): JobEntry[] {
  return modules.flatMap((m) =>
    (m.jobs ?? []).map((def) => ({
      name: `${m.name}/${def.name}`,
      module: m.name,
      def,
      schedule: cronSchedule(def.cron),
      policy: jobPolicy(def),
    })),
  );
}

/** What a run needs besides the job: the runtime it hands the job, and how it waits between attempts. */
export interface RunServices extends ModuleRuntime {
  /** The registered modules, handed to the job. */
  modules: readonly ModuleDef[];
  /** Waits between attempts; the runtime's timers unless a test brings its own. */
  sleeper?: Sleeper;
}

/** How asking to run a job ended: it ran (whatever its outcome), or its lease was refused. */
export type JobResult = { ran: true; run: RunRecord } | { ran: false; reason: Refusal; held: Lease | null };

/**
 * Runs one job for one fire time: takes the job's lease from its JobRunner
 * object (refused when the fire time already ran, or another run holds it),
 * runs it with retries per its policy (every error is retried; no attempt
 * starts after the lease ends), then records the run and releases the lease.
 * Logs and measures the run. Rejects only when the lease cannot be asked for
 * (the job then did not run); a failing job is a recorded `failed` run.
 */
export async function runJob(
  entry: JobEntry,
  services: RunServices,
  fire: number,
  trigger: Trigger,
): Promise<JobResult> {
  const { env, clock, sleeper = realSleeper } = services;
  const log = services.log.child({ job: entry.name, trigger, fire: new Date(fire).toISOString() });
  const runner = jobRunner(env, entry.name);
  const lease = await runner.acquire({ job: entry.name, fire, trigger, lease_ms: entry.policy.lease_ms });
  if (!lease.granted) {
    // The same fire time asked twice (two invocations) is routine; an earlier run still going is worth a word.
    const overlap = lease.reason === "running" && lease.held !== null && lease.held.fire !== fire;
    if (overlap) {
      isolateRecorder.inc(METRICS.jobRuns, [entry.name, trigger, "skipped"]);
      log.warn("job not run: its previous run still holds the lease", {
        held_fire: new Date(lease.held?.fire ?? 0).toISOString(),
      });
    } else log.debug("job not run: lease refused", { reason: lease.reason });
    return { ran: false, reason: lease.reason, held: lease.held };
  }

  const { attempts: maxAttempts, base_ms, max_ms } = entry.policy;
  const attempts: AttemptRecord[] = [];
  const started = performance.now();
  let error: string | null = null;
  let result: JobSummary | null = null;
  try {
    await retry(
      async (attempt) => {
        const began = performance.now();
        try {
          const returned = await entry.def.run({
            env,
            config: services.config,
            log: log.child({ attempt }),
            clock,
            // The job's work past its run: a failure logged with the job's fields.
            waitUntil: loggedWaitUntil(services.waitUntil, log.child({ attempt })),
            scheduledTime: fire,
            lastSuccess: lease.last_success,
            attempt,
            modules: services.modules,
          });
          attempts.push({ attempt, outcome: "ok", duration_ms: elapsed(began), error: null });
          result = summaryOf(returned, log);
        } catch (failure) {
          attempts.push({ attempt, outcome: "failed", duration_ms: elapsed(began), error: describe(failure) });
          throw failure;
        }
      },
      {
        maxAttempts,
        baseMs: base_ms,
        maxMs: max_ms,
        clock,
        sleeper,
        // The job's policy says how often; any error it throws is worth that many tries.
        retryable: () => true,
        // By the caller's clock: the lease's end as the object set it, give or take their skew.
        deadline: clock.now().getTime() + (lease.lease.expires_at - lease.lease.started_at),
        onRetry: ({ attempt, delayMs, error: failure }) => {
          isolateRecorder.inc(METRICS.jobRetries, [entry.name]);
          log.warn("job attempt failed; retrying", { attempt, delay_ms: delayMs, ...errorFields(failure) });
        },
      },
    );
  } catch (failure) {
    error = describe(failure);
    log.error("job failed", { attempts: attempts.length, ...errorFields(failure) });
  }
  const duration = elapsed(started);
  const outcome = error === null ? "ok" : "failed";
  isolateRecorder.inc(METRICS.jobRuns, [entry.name, trigger, outcome]);
  isolateRecorder.observe(METRICS.jobDuration, [entry.name, outcome], duration / 1000);
  if (outcome === "ok") log.info("job ran", { attempts: attempts.length, duration_ms: duration });

  const report = { lease_id: lease.lease.id, outcome, duration_ms: duration, attempts, error, result } as const;
  const recorded = await runner.finish(report).catch((failure: unknown) => {
    // The lease then runs out and the run is recorded as lost; the job itself did run.
    log.error("job run could not be recorded", errorFields(failure));
    return { run: null };
  });
  return {
    ran: true,
    run: recorded.run ?? {
      ...report,
      fire,
      trigger,
      started_at: lease.lease.started_at,
      finished_at: lease.lease.started_at + duration,
    },
  };
}

function elapsed(since: number): number {
  return Math.max(0, Math.round(performance.now() - since));
}

/**
 * A job's returned summary as a run records it: null for nothing, and in place of one that is no
 * JSON object or longer than RESULT_CHARS as JSON (a job's mistake, which must not fail the run
 * whose work is done, nor its record) a note saying so, the summary itself logged.
 */
function summaryOf(returned: unknown, log: Logger): JobSummary | null {
  if (returned === undefined || returned === null) return null;
  const parsed = JobSummary.safeParse(returned);
  const chars = parsed.success ? JSON.stringify(parsed.data).length : 0;
  if (parsed.success && chars <= RESULT_CHARS) return parsed.data;
  const problem = parsed.success ? `longer than ${RESULT_CHARS} characters as JSON` : "not a JSON object";
  log.warn("job result not recorded", { problem });
  return { result_not_recorded: problem };
}

/**
 * An error as a run records it: class and message, cut (no stack), a failed query's values left
 * out and secret-shaped strings masked as a log line masks them (the run is kept in its
 * JobRunner and answered by `GET /api/v1/platform/jobs`, where no log redaction reaches).
 */
function describe(error: unknown): string {
  const text = String(redact(errorText(error)));
  return text.length > ERROR_CHARS ? `${text.slice(0, ERROR_CHARS - 1)}…` : text;
}
