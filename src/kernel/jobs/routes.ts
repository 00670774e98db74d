import { z } from "@hono/zod-openapi";
import { AppError } from "../errors";
import { background } from "../http/background";
import { NAME_PART } from "../modules/name";
import type { ModuleDef } from "../modules/types";
import { jsonResponse } from "../openapi/blocks";
import { operations } from "../openapi/operation";
import { createRouter, problem } from "../openapi/router";
import { jobRunner, type RunRecord } from "./contract";
import type { Lease } from "./lease";
import { type JobEntry, jobsOf, runJob } from "./runner";

const iso = (ms: number) => new Date(ms).toISOString();
const Iso = z.string().openapi({ format: "date-time", example: "2026-07-01T12:00:00.000Z" });
const Trigger = z.enum(["cron", "manual"]).openapi({ description: "the minutely tick, or a run asked for by name" });

const JobAttemptSchema = z
  .object({
    attempt: z.number().int().min(1),
    outcome: z.enum(["ok", "failed"]),
    duration_ms: z.number().int().min(0),
    error: z.string().nullable(),
  })
  .openapi("JobAttempt");

const JobRunSchema = z
  .object({
    fire_time: Iso.openapi({ description: "the time the cron fell due (a manual run's: when it was asked for)" }),
    trigger: Trigger,
    started_at: Iso,
    finished_at: Iso,
    duration_ms: z.number().int().min(0),
    outcome: z
      .enum(["ok", "failed", "lost"])
      .openapi({ description: "`lost`: the run's lease ran out before it reported (its invocation died or overran)" }),
    attempts: z.array(JobAttemptSchema),
    error: z.string().nullable().openapi({ description: "the last attempt's error: its class and message" }),
    result: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        "what the job found or did, as it summarised it (e.g. the dead-letter report's counts); null when it says nothing, failed or was lost",
    }),
  })
  .openapi("JobRun");

const JobSchema = z
  .object({
    module: z.string(),
    job: z.string(),
    cron: z.string().openapi({ description: "five fields, UTC", example: "0 * * * *" }),
    retry: z.object({ attempts: z.number().int(), base_ms: z.number().int(), max_ms: z.number().int() }),
    lease_ms: z.number().int(),
    catch_up_ms: z.number().int().openapi({ description: "how late a fire time whose tick never came may still run" }),
    next_due: Iso.nullable(),
    running: z
      .object({ fire_time: Iso, trigger: Trigger, started_at: Iso, expires_at: Iso })
      .nullable()
      .openapi({ description: "the run holding the lease now, if any" }),
    last_run: JobRunSchema.nullable(),
    last_success: Iso.nullable().openapi({ description: "the fire time of the last successful run" }),
    recent_runs: z.array(JobRunSchema).openapi({ description: "the newest runs, newest first (at most 10)" }),
  })
  .openapi("Job");

const JobPathParams = z.object({
  module: z
    .string()
    .regex(new RegExp(`^${NAME_PART}$`))
    .openapi({ param: { name: "module", in: "path" }, example: "events" }),
  job: z
    .string()
    .regex(new RegExp(`^${NAME_PART}$`))
    .openapi({ param: { name: "job", in: "path" }, example: "dead-letter-report" }),
});

const op = operations(["platform"]);

const list = op.get("/platform/jobs", {
  operationId: "listJobs",
  summary: "Every registered job: its cron, next due time, the run holding its lease, and its recent runs",
  access: "platform",
  responses: { 200: jsonResponse("the jobs, in module order", z.object({ items: z.array(JobSchema) })) },
});

const runNow = op.post("/platform/jobs/{module}/{job}/run", {
  operationId: "runJob",
  summary: "Run a job now, under its lease and retry policy like a due run; answers when the run ended",
  access: "platform",
  request: { params: JobPathParams },
  responses: {
    200: jsonResponse("the run as recorded; `outcome` says whether the job succeeded", JobRunSchema),
    404: problem("no such job"),
    409: problem("the job is running now"),
  },
});

const RECENT = 10;

const runView = (r: RunRecord) => ({
  fire_time: iso(r.fire),
  trigger: r.trigger,
  started_at: iso(r.started_at),
  finished_at: iso(r.finished_at),
  duration_ms: r.duration_ms,
  outcome: r.outcome,
  attempts: r.attempts,
  error: r.error,
  result: r.result,
});

const leaseView = (l: Lease) => ({
  fire_time: iso(l.fire),
  trigger: l.trigger,
  started_at: iso(l.started_at),
  expires_at: iso(l.expires_at),
});

/**
 * The kernel's job operations for the platform operator, mounted under
 * `/api/v1`: the jobs with their state, and running one by name.
 */
export function jobOperations(platform: { modules: readonly ModuleDef[] }) {
  const jobs = jobsOf(platform.modules);
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const view = async (env: Env, now: number, entry: JobEntry) => {
    const status = await jobRunner(env, entry.name).status({ limit: RECENT });
    const next = entry.schedule.nextAfter(now);
    const { attempts, base_ms, max_ms, lease_ms, catch_up_ms } = entry.policy;
    return {
      module: entry.module,
      job: entry.def.name,
      cron: entry.def.cron,
      retry: { attempts, base_ms, max_ms },
      lease_ms,
      catch_up_ms,
      next_due: next === null ? null : iso(next),
      running: status.running ? leaseView(status.running) : null,
      last_run: status.runs[0] ? runView(status.runs[0]) : null,
      last_success: status.last_success === null ? null : iso(status.last_success),
      recent_runs: status.runs.map(runView),
    };
  };

  return createRouter()
    .openapi(list, async (c) => {
      const now = c.get("clock").now().getTime();
      const items = await Promise.all(jobs.map((entry) => view(c.env, now, entry)));
      return c.json({ items }, 200);
    })
    .openapi(runNow, async (c) => {
      const { module, job } = c.req.valid("param");
      const entry = byName.get(`${module}/${job}`);
      if (!entry) {
        // A name mistyped at the CLI (`plinth jobs run <module> <job>`): say which there are.
        const known = [...byName.keys()].sort().join(", ");
        throw new AppError("not_found", { detail: `no job ${module}/${job}; there are: ${known}` });
      }
      const clock = c.get("clock");
      const result = await runJob(
        entry,
        {
          env: c.env,
          config: c.get("config"),
          log: c.get("log"),
          clock,
          waitUntil: (p) => background(c, p),
          modules: platform.modules,
        },
        clock.now().getTime(),
        "manual",
      );
      if (!result.ran) {
        const since = result.held ? ` since ${iso(result.held.started_at)}` : "";
        throw new AppError("conflict", { detail: `the job is running${since}` });
      }
      return c.json(runView(result.run), 200);
    });
}
