import type { z } from "zod";
import type { Clock } from "../clock";
import type { ModuleDef } from "../modules/types";
import type { BackoffPolicy } from "../resilience/backoff";
import type { SupervisionPolicy } from "./supervision";

/** What a message meets while its actor is paused: refused, or run (see ActorOptions.whilePaused). */
export type WhilePaused = "refuse" | "accept";

/** How an actor class is set up. */
export interface ActorOptions<M = never> {
  /** The class name: the `actor` label of its metrics, its log lines, its escalation events. */
  name: string;
  /** The subclass's own SQLite migrations, tracked apart from the base's tables. */
  schema?: readonly string[][];
  /**
   * Parses a stored timer's message before its handler sees it: a timer can
   * outlive the deployment that scheduled it, so what it carries is checked,
   * not trusted. Absent, the actor has no timers (`Actor` without a type
   * argument): `schedule` throws {@link NoTimers}, and a timer found on it is
   * dropped, counted and logged at error (docs/actors.md, "Timers").
   */
  timerMessage?: z.ZodType<M>;
  /**
   * The name of its module (`"inventory"`), one of `modules`: `emit` may append the types of that
   * module's `events.publishes` union, and refuses any other (`UndeclaredEvent`) in the handler's
   * transaction. A name no module has is refused at construction (`UnknownActorModule`). Absent
   * (an actor of the kernel's, as the job runner), the actor emits none but the base's own
   * `actor.escalated`.
   */
  module?: string;
  /**
   * The platform's modules (the class is built over the platform: `platform.modules`): the
   * union of its `module` is found among them, and `emit` refuses a stream whose kind is one of
   * their aggregate types (`StreamOfAggregate`), which would share its name, and so its
   * versions, with the Aggregate object's. Required: an actor built without them emitted to any
   * stream unchecked, and every actor's factory has the platform.
   */
  modules: readonly ModuleDef[];
  clock: Clock;
  supervision?: SupervisionPolicy;
  /**
   * What a message (an RPC method run by `receive`) meets while the actor is paused by its
   * supervision: refused with {@link ActorBackingOff} (the default), or run (`"accept"`) by
   * an actor whose work, and so whose failures, are its timers', and whose messages only
   * store work for them or read: the timers stay paused until the pause ends. (A webhook
   * endpoint that refused its deliveries failed its tenant's whole event dispatch.)
   */
  whilePaused?: WhilePaused;
  /** Backoff (full jitter) before a timer whose handler threw fires again. */
  timerRetry?: BackoffPolicy;
  /** Randomness of the timer retry jitter; tests pin it. */
  random?: () => number;
}

/** Where an actor's events go: its tenant and its stream (`<tenant>/<kind>/<id>`). */
export interface ActorAddress {
  tenantId: string;
  stream: string;
}

/** Thrown to callers while the actor is paused by its supervision; retry after `retryAt`. */
export class ActorBackingOff extends Error {
  override name = "ActorBackingOff";
  readonly retryable = true;
  constructor(readonly retryAt: number) {
    super(`actor is backing off after repeated failures until ${new Date(retryAt).toISOString()}`);
  }

  /** The error whose message is `message` (as it crosses Durable Object RPC: durable/remote-errors.ts); null for another message. */
  static fromMessage(message: string): ActorBackingOff | null {
    const until = /^actor is backing off after repeated failures until (\S+)$/.exec(message)?.[1];
    const retryAt = until === undefined ? Number.NaN : Date.parse(until);
    return Number.isNaN(retryAt) ? null : new ActorBackingOff(retryAt);
  }
}

/**
 * Thrown by `schedule` on an actor whose options declare no `timerMessage` (its type refuses
 * the call already: `Actor` without a type argument schedules `never`), and by the default
 * `onTimer` of one that declares a `timerMessage` but no handler.
 */
export class NoTimers extends Error {
  override name = "NoTimers";
  constructor(actor: string, missing: "timerMessage" | "onTimer") {
    super(
      missing === "timerMessage"
        ? `${actor} declares no timers: give its options a timerMessage and override onTimer to schedule one`
        : `${actor} declares a timerMessage but no onTimer: override it to handle its timers`,
    );
  }
}

/** How a failing timer is retried when the actor names no policy: 1 s, doubling, at most a minute. */
export const DEFAULT_TIMER_RETRY: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000 };
