import { z } from "zod";
import { defineRpc, rpcClient } from "../durable/rpc";
import { NAME_PART } from "../modules/name";
import { MAX_ATTEMPTS } from "./policy";

/** `<module>/<job>`: the name of a job's JobRunner object, and how logs and metrics name the job. */
export const JobName = z.string().regex(new RegExp(`^${NAME_PART}/${NAME_PART}$`));

const Ms = z.number().int().min(0);
const Trigger = z.enum(["cron", "manual"]);
/** What an error is recorded as: its class and message, cut. */
export const ERROR_CHARS = 500;

/** How long a run's result may be, as JSON: a summary of what the job did, not its data. */
export const RESULT_CHARS = 4_096;

/**
 * What a job's run found or did, as the job returns it (e.g. the dead-letter report's counts):
 * kept with the run, so `plinth jobs run` and the job list show it without the logs.
 */
export const JobSummary = z.record(z.string(), z.json());
export type JobSummary = z.infer<typeof JobSummary>;

/** One attempt of a run, as the retry policy made it. */
export const AttemptRecord = z.object({
  attempt: z.number().int().min(1),
  outcome: z.enum(["ok", "failed"]),
  duration_ms: Ms,
  error: z.string().max(ERROR_CHARS).nullable(),
});
export type AttemptRecord = z.infer<typeof AttemptRecord>;

export const LeaseView = z.object({
  id: z.string().min(1).max(64),
  fire: Ms,
  trigger: Trigger,
  started_at: Ms,
  expires_at: Ms,
});

/**
 * A recorded run. `lost`: its lease ran out before it reported (the
 * invocation died or overran); `started_at` and `finished_at` are the
 * object's clock, `duration_ms` the job's own time across its attempts.
 */
export const RunRecord = z.object({
  lease_id: z.string(),
  fire: Ms,
  trigger: Trigger,
  started_at: Ms,
  finished_at: Ms,
  duration_ms: Ms,
  outcome: z.enum(["ok", "failed", "lost"]),
  attempts: z.array(AttemptRecord),
  error: z.string().nullable(),
  /** What the job returned from its successful attempt; null when it returns nothing, failed or was lost. */
  result: JobSummary.nullable(),
});
export type RunRecord = z.infer<typeof RunRecord>;

/**
 * A JobSummary as it crosses the RPC boundary: its JSON text, which the JobRunner
 * object makes with `JobSummaryJson.encode(summary)` and jobRunner()'s parse of the
 * reply turns back into the summary (validated), so callers see a RunRecord as ever.
 *
 * Why not the summary itself: workers-types type a stub's reply through
 * `Rpc.Result<R>`, which asks `R extends Rpc.Serializable<R>`, and that check does
 * not terminate on z.json()'s recursive JSONType (TS2589, "excessively deep", at
 * jobRunner()). A reply holding only this (finite) string type keeps JOB_RUNNER
 * typed by its class like every other binding. Not `unknown` instead: that fails the
 * same check, and workers-types then type the whole reply `never`, silently
 * (test/unit/env-bindings.test.ts pins the reply's type). Arguments are not checked
 * that way (`finish` takes the summary itself). The brand (on the input side only)
 * makes `encode` the one way the object can fill the field.
 */
export const JobSummaryJson = z.codec(z.string().brand<"JobSummaryJson", "in">(), JobSummary, {
  decode: (text, payload) => {
    try {
      return JSON.parse(text);
    } catch {
      payload.issues.push({ code: "invalid_format", format: "json", input: text, message: "not JSON" });
      return z.NEVER;
    }
  },
  encode: (summary) => JSON.stringify(summary),
});

/** A RunRecord in a JobRunner's reply: its result as JobSummaryJson. */
export const RunReply = RunRecord.extend({ result: JobSummaryJson.nullable() });
/** A RunRecord as the JobRunner object sends it. */
export type RunSent = z.input<typeof RunReply>;

/** Runs a JobRunner keeps, newest first. */
export const HISTORY = 50;

/**
 * The JobRunner object's RPC contract, one object per job (`<module>/<job>`):
 * the lease a run needs, the run's record, and the job's status.
 */
export const JobRunnerRpc = defineRpc({
  /** Asks to run `job` for `fire`; the lease is held until `finish` or `lease_ms` pass. */
  acquire: {
    args: z.object({ job: JobName, fire: Ms, trigger: Trigger, lease_ms: z.number().int().min(1).max(86_400_000) }),
    reply: z.discriminatedUnion("granted", [
      z.object({ granted: z.literal(true), lease: LeaseView, last_success: Ms.nullable() }),
      z.object({ granted: z.literal(false), reason: z.enum(["running", "already_ran"]), held: LeaseView.nullable() }),
    ]),
  },
  /** Records how the run of a lease ended and releases the lease (if it is still the one held). */
  finish: {
    args: z.object({
      lease_id: z.string().min(1).max(64),
      outcome: z.enum(["ok", "failed"]),
      duration_ms: Ms,
      attempts: z.array(AttemptRecord).min(1).max(MAX_ATTEMPTS),
      error: z.string().max(ERROR_CHARS).nullable(),
      result: JobSummary.nullable().default(null),
    }),
    reply: z.object({ run: RunReply.nullable() }),
  },
  /** The run holding the lease, the fire time of the last success, and the newest runs. */
  status: {
    args: z.object({ limit: z.number().int().min(1).max(HISTORY) }),
    reply: z.object({ running: LeaseView.nullable(), last_success: Ms.nullable(), runs: z.array(RunReply) }),
  },
});

/** The typed client of a job's JobRunner: the only way code outside it reaches the object. */
export function jobRunner(env: Env, job: string) {
  return rpcClient(JobRunnerRpc, env.JOB_RUNNER.getByName(job), "JobRunner");
}
