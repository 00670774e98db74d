/**
 * Supervision of an actor, as pure functions over a small JSON state the
 * actor keeps in its storage. A handler that throws is a failure; failures
 * older than the window are forgotten; when `maxFailures` fall inside one
 * window the actor is paused for an exponentially growing time (the restart
 * backoff), after which it restarts from storage. A message handled without
 * failure after a restart resets the backoff.
 */
import { z } from "zod";
import { type BackoffPolicy, backoffCeiling } from "../resilience/backoff";
import type { ActorEvent } from "./events";

/** When an actor backs off, and for how long. */
export interface SupervisionPolicy {
  /** Failures inside `windowMs` that make the actor back off and restart. */
  maxFailures: number;
  windowMs: number;
  /** Pause before the n-th consecutive restart: `backoffCeiling(n)` (no jitter: one object, nothing to spread). */
  backoff: BackoffPolicy;
}

/** Five failures in a minute: pause 1 s, 2 s, 4 s … up to 5 minutes. */
export const DEFAULT_SUPERVISION: SupervisionPolicy = {
  maxFailures: 5,
  windowMs: 60_000,
  backoff: { baseMs: 1_000, maxMs: 300_000 },
};

/** What the actor remembers of its failures. */
export interface SupervisionState {
  /** Times (epoch ms) of the failures inside the window, oldest first; at most `maxFailures`. */
  failures: number[];
  /** Consecutive restarts without a success in between. */
  restarts: number;
  /** While set and in the future the actor is paused; after it, the next run restarts the actor. */
  pausedUntil: number | null;
}

export const initialSupervision = (): SupervisionState => ({ failures: [], restarts: 0, pausedUntil: null });

/** A failure's consequence: the new state, and the restart it triggered (if any). */
export interface FailureVerdict {
  state: SupervisionState;
  restart: { restarts: number; pausedUntil: number; backoffMs: number } | null;
}

/**
 * Records a failure at `now`.
 *
 * @example
 * const { state, restart } = recordFailure(initialSupervision(), Date.parse("2026-01-01"), DEFAULT_SUPERVISION);
 * restart; // null: one failure of five
 */
export function recordFailure(state: SupervisionState, now: number, policy: SupervisionPolicy): FailureVerdict {
  const recent = state.failures.filter((at) => now - at < policy.windowMs);
  recent.push(now);
  if (recent.length < policy.maxFailures) {
    return { state: { ...state, failures: recent.slice(-policy.maxFailures) }, restart: null };
  }
  const restarts = state.restarts + 1;
  const backoffMs = backoffCeiling(restarts, policy.backoff);
  const pausedUntil = now + backoffMs;
  return { state: { failures: [], restarts, pausedUntil }, restart: { restarts, pausedUntil, backoffMs } };
}

/** Records a handler that succeeded: the restart backoff starts again from its base. */
export function recordSuccess(state: SupervisionState): SupervisionState {
  return state.restarts === 0 ? state : { ...state, restarts: 0 };
}

/** Whether the actor is paused at `now`. */
export const isPaused = (state: SupervisionState, now: number): boolean =>
  state.pausedUntil !== null && now < state.pausedUntil;

/** Whether a pause has ended and the actor has yet to restart from storage. */
export const restartDue = (state: SupervisionState, now: number): boolean =>
  state.pausedUntil !== null && now >= state.pausedUntil;

/** The type of the event a pause sends: the base's own, which every actor may emit. */
export const ESCALATED = "actor.escalated";

/**
 * `actor.escalated`, declared as one of the kernel's events (events/kernel-events.ts): it reaches
 * the tenant's audit log, and a webhook filter or subscription may name it only when declared.
 */
export const EscalatedEvent = z.object({
  type: z.literal(ESCALATED),
  data: z.object({
    actor: z.string(),
    handler: z.string(),
    restarts: z.number().int().min(1),
    backoff_ms: z.number().min(0),
    paused_until: z.iso.datetime(),
    /** The error's class name only. */
    error: z.string(),
  }),
});

/**
 * The `actor.escalated` event a restart sends to the actor's escalation address: who failed,
 * in which handler, how often, and until when it is paused. The error's class only: its
 * message may quote data.
 */
export function escalationEvent(
  actor: string,
  handler: string,
  restart: NonNullable<FailureVerdict["restart"]>,
  error: unknown,
): ActorEvent {
  const data: z.infer<typeof EscalatedEvent>["data"] = {
    actor,
    handler,
    restarts: restart.restarts,
    backoff_ms: restart.backoffMs,
    paused_until: new Date(restart.pausedUntil).toISOString(),
    error: error instanceof Error ? error.name : "unknown",
  };
  return { type: ESCALATED, data };
}
