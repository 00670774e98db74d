import type { JobDef } from "../modules/types";

/** Most attempts a job's retry policy may make. */
export const MAX_ATTEMPTS = 10;
/** A run's lease when the job names none: the longest a scheduled invocation lasts. */
export const DEFAULT_LEASE_MS = 15 * 60_000;
/** How late a missed fire time may still run when the job says nothing. */
export const DEFAULT_CATCH_UP_MS = 15 * 60_000;

/** A job's retry policy and lease, its defaults filled in. */
export interface JobPolicy {
  attempts: number;
  base_ms: number;
  max_ms: number;
  lease_ms: number;
  catch_up_ms: number;
}

/** The policy a job runs under: no retry, 1 s – 60 s backoff, a 15-minute lease and catch-up, unless it says otherwise. */
export function jobPolicy(job: Pick<JobDef, "retry" | "lease_ms" | "catch_up_ms">): JobPolicy {
  return {
    attempts: job.retry?.attempts ?? 1,
    base_ms: job.retry?.base_ms ?? 1_000,
    max_ms: job.retry?.max_ms ?? 60_000,
    lease_ms: job.lease_ms ?? DEFAULT_LEASE_MS,
    catch_up_ms: job.catch_up_ms ?? DEFAULT_CATCH_UP_MS,
  };
}

/** What is wrong with a job's policy, one sentence each; empty when nothing is. */
export function policyProblems(job: Pick<JobDef, "retry" | "lease_ms" | "catch_up_ms">): string[] {
  const { attempts, base_ms, max_ms, lease_ms, catch_up_ms } = jobPolicy(job);
  const problems: string[] = [];
  if (!(Number.isInteger(attempts) && attempts >= 1 && attempts <= MAX_ATTEMPTS)) {
    problems.push(`retry.attempts must be a whole number from 1 to ${MAX_ATTEMPTS}`);
  }
  if (!(base_ms > 0 && max_ms >= base_ms)) problems.push("retry needs 0 < base_ms <= max_ms");
  if (!(Number.isInteger(lease_ms) && lease_ms >= 1_000 && lease_ms <= 86_400_000)) {
    problems.push("lease_ms must be a whole number from 1000 to 86400000");
  }
  if (!(Number.isInteger(catch_up_ms) && catch_up_ms >= 0 && catch_up_ms <= 86_400_000)) {
    problems.push("catch_up_ms must be a whole number from 0 to 86400000");
  }
  return problems;
}
