/**
 * An actor's supervision as it runs, the rules being supervision.ts's: the
 * state, in memory and under one storage key; a message refused while the
 * actor is paused, or the actor restarted first when the pause has ended; and
 * each success and failure counted, a failure one too many logged, counted
 * and escalated. The Actor base (actor.ts) owns one.
 */
import { ConfigError } from "../errors/config-error";
import { errorFields, type Logger } from "../log";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";
import type { ActorEvent } from "./events";
import { type ActorAddress, ActorBackingOff, type WhilePaused } from "./options";
import { StreamOfAggregate } from "./stream-kinds";
import {
  DEFAULT_SUPERVISION,
  escalationEvent,
  initialSupervision,
  isPaused,
  recordFailure,
  recordSuccess,
  restartDue,
  type SupervisionPolicy,
  type SupervisionState,
} from "./supervision";

const SUPERVISION_KEY = "actor.supervision";

/** What a supervisor needs of its actor. */
export interface Supervised {
  /** The class name: the `actor` label of its metrics, its escalation events. */
  name: string;
  storage: DurableObjectStorage;
  log: Logger;
  policy: SupervisionPolicy | undefined;
  /** What its messages meet while it is paused (ActorOptions.whilePaused). */
  whilePaused: WhilePaused | undefined;
  now(): number;
  /** Rebuilds the actor's memory from storage (its onStart) as a pause ends. */
  restarted(): void;
  /** Where the actor's escalation events go; null logs them only. */
  escalationAddress(): ActorAddress | null;
  /** Appends the pause's escalation in a transaction of its own, checked as any emit is (it may throw). */
  escalate(address: ActorAddress, event: ActorEvent): void;
  /** After a failure that paused the actor (and its escalation): the alarm must follow the pause. */
  paused(): Promise<void>;
}

/** One actor's supervision: see the file's header. */
export class Supervisor {
  /** The state as last recorded; the actor's alarm, timers and status read it. */
  state: SupervisionState = initialSupervision();

  constructor(private readonly actor: Supervised) {}

  /** Reads the state kept in storage (on start, and after a wipe). */
  load(): void {
    this.state = this.actor.storage.kv.get<SupervisionState>(SUPERVISION_KEY) ?? initialSupervision();
  }

  /**
   * Refuses a message while paused, unless the actor takes them then (true: taken while
   * paused, so its success says nothing of the timers that failed, and is not recorded);
   * restarts first when the pause has ended.
   */
  admit(): boolean {
    const now = this.actor.now();
    if (isPaused(this.state, now)) {
      if (this.actor.whilePaused === "accept") return true;
      throw new ActorBackingOff(this.state.pausedUntil ?? now);
    }
    if (restartDue(this.state, now)) this.restart();
    return false;
  }

  /** Ends a pause: clears it and rebuilds the subclass's memory from storage. */
  restart(): void {
    this.state = { ...this.state, pausedUntil: null };
    this.actor.storage.kv.put(SUPERVISION_KEY, this.state);
    this.actor.log.warn("actor restarting from storage", { restarts: this.state.restarts });
    this.actor.restarted();
  }

  succeeded(): void {
    const next = recordSuccess(this.state);
    if (next === this.state) return;
    this.state = next;
    this.actor.storage.kv.put(SUPERVISION_KEY, next);
  }

  /** Counts a failure (after the rollback, in its own write); pauses and escalates when it is one too many. */
  async failed(handler: string, error: unknown): Promise<void> {
    const name = this.actor.name;
    isolateRecorder.inc(METRICS.actorFailures, [name, handler]);
    const { state, restart } = recordFailure(this.state, this.actor.now(), this.actor.policy ?? DEFAULT_SUPERVISION);
    this.state = state;
    try {
      this.actor.storage.kv.put(SUPERVISION_KEY, state);
      const address = this.actor.escalationAddress();
      // Which of a class's many objects failed (a tenant's endpoint among dozens): its tenant and stream.
      const where = address ? { tenant_id: address.tenantId, stream: address.stream } : {};
      // A variable to fix is no bug of the actor's (errorFields gives it no stack), and gets no line
      // at each failure when it was logged where it was met (a key version's line names the value's holder).
      const logged = error instanceof ConfigError && error.logged;
      const fields = errorFields(error);
      if (restart) {
        isolateRecorder.inc(METRICS.actorRestarts, [name]);
        this.actor.log.error("actor failed too often; backing off before a restart", {
          ...where,
          handler,
          restarts: restart.restarts,
          backoff_ms: restart.backoffMs,
          ...fields,
        });
        if (address) this.escalate(address, escalationEvent(name, handler, restart, error));
        await this.actor.paused();
      } else if (!logged) {
        this.actor.log.warn("actor handler failed", { ...where, handler, ...fields });
      }
    } catch (storageError) {
      this.actor.log.error("actor failure could not be recorded", errorFields(storageError));
    }
  }

  /**
   * Appends the escalation; when it fails, the pause, recorded already, holds without it, and the
   * failure is logged at error by its address: a refusal (an address of an aggregate's kind, which
   * the actor's messages could not see: escalation-check.ts) apart from an append that failed (its
   * storage). Thrown on, it was logged as a failure not recorded, and the alarm was not set to
   * follow the pause.
   */
  private escalate(address: ActorAddress, event: ActorEvent): void {
    try {
      this.actor.escalate(address, event);
    } catch (error) {
      const msg =
        error instanceof StreamOfAggregate
          ? "actor escalation refused; paused without it"
          : "actor escalation could not be appended; paused without it";
      this.actor.log.error(msg, { tenant_id: address.tenantId, stream: address.stream, ...errorFields(error) });
    }
  }
}
