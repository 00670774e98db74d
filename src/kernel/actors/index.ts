/**
 * Actors: Durable Objects with typed messages, persistent timers multiplexed
 * over the one alarm, supervision, and an outbox. See docs/actors.md.
 */
export { Actor } from "./actor";
export { UndeclaredEvent, UnknownActorModule } from "./declared-events";
export type { ActorEvent } from "./events";
export { type ActorAddress, ActorBackingOff, type ActorOptions, NoTimers, type WhilePaused } from "./options";
export { StreamOfAggregate } from "./stream-kinds";
export {
  DEFAULT_SUPERVISION,
  type SupervisionPolicy,
  type SupervisionState,
} from "./supervision";
export type { ScheduleMode } from "./timers";
