/**
 * Who may run a job now: the JobRunner object's rule, as pure functions
 * (durable-objects/job-runner.ts applies them inside its input gate, so two
 * invocations asking at once are answered one after the other).
 */

/** What started a run: the minutely tick finding the job due, or an operator (or a test) asking by name. */
export type Trigger = "cron" | "manual";

/** A run's permission to go, held until the run reports or `expires_at` passes. */
export interface Lease {
  id: string;
  /** The fire time the run is for, epoch ms (a manual run's is the time it was asked for). */
  fire: number;
  trigger: Trigger;
  started_at: number;
  expires_at: number;
}

/** What the object remembers between runs. */
export interface LeaseState {
  /** The latest fire time a cron run was granted for: each fire time runs once. */
  lastFire: number | null;
  held: Lease | null;
}

/** Why a lease was refused. */
export type Refusal = "running" | "already_ran";

export type Decision =
  | { granted: true; lease: Lease; state: LeaseState; expired: Lease | null }
  | { granted: false; reason: Refusal; held: Lease | null };

/**
 * Grants a lease unless another run holds an unexpired one (`running`: the
 * same fire time asked twice, or an earlier run still going), or, for a cron
 * run, the fire time is not after the last one granted (`already_ran`). A
 * lease that ran out without a report is handed back as `expired`, to be
 * recorded as lost. Manual runs never move `lastFire`: they add a run, they
 * do not stand in for a due one.
 */
export function decide(
  state: LeaseState,
  ask: { id: string; fire: number; trigger: Trigger; leaseMs: number },
  now: number,
): Decision {
  const held = state.held;
  if (held !== null && held.expires_at > now) return { granted: false, reason: "running", held };
  if (ask.trigger === "cron" && state.lastFire !== null && ask.fire <= state.lastFire) {
    return { granted: false, reason: "already_ran", held: null };
  }
  const lease: Lease = {
    id: ask.id,
    fire: ask.fire,
    trigger: ask.trigger,
    started_at: now,
    expires_at: now + ask.leaseMs,
  };
  return {
    granted: true,
    lease,
    state: { lastFire: ask.trigger === "cron" ? ask.fire : state.lastFire, held: lease },
    expired: held,
  };
}
