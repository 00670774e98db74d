/**
 * The decider contract: how a module describes an event-sourced aggregate as
 * two pure functions, after Emmett. `decide` turns a command and the current
 * state into new events (or a rule violation); `evolve` folds one event into
 * the state. The Aggregate Durable Object owns storage, versions, If-Match and
 * the outbox; a decider owns only the business rules, so it is tested without
 * a runtime.
 */
import type { z } from "zod";
import type { Actor, NewEvent } from "./envelope";

export type { NewEvent } from "./envelope";

/** What a decision may depend on besides command and state: passed in, so tests control it. */
export interface DecideContext {
  /** The decision's time, RFC 3339 UTC; the only clock a decider reads. */
  now: string;
  /** Who asked. Deciders may record it; authorization happens before `decide`. */
  actor: Actor;
}

/** A rule violation: a stable code (declared in the module's errors.ts) and a message for the client. */
export interface DomainError {
  code: string;
  message: string;
}

/** An accepted command: the events to append, possibly none (a no-op does not bump the version). */
export interface Accepted<E extends NewEvent> {
  ok: true;
  events: E[];
}

/** A rejected command: nothing is appended. */
export interface Rejected {
  ok: false;
  error: DomainError;
}

/** What `decide` returns: expected failures are values, never thrown. */
export type Decision<E extends NewEvent> = Accepted<E> | Rejected;

/**
 * A module's aggregate. `decide` and `evolve` must be pure and total: no I/O,
 * no clock, no randomness, no throwing on any command the schema accepts, and
 * `evolve` must not mutate the state it is given.
 *
 * @example
 * export const postDecider: Decider<PostCommand, PostEvent, PostState> = {
 *   type: "post", commandSchema, eventSchema, initialState, decide, evolve,
 * };
 */
export interface Decider<C extends { type: string }, E extends NewEvent, S> {
  /** Aggregate type, lower-case, e.g. "post"; streams are "<tenant>/<type>/<id>". */
  type: string;
  /** Parses a command at the boundary (route body, DO RPC argument). */
  commandSchema: z.ZodType<C>;
  /** Parses a stored event when the stream is loaded; also the module's declaration of these events. */
  eventSchema: z.ZodType<E>;
  /** Parses the state where it crosses a boundary (the Aggregate DO's replies, a read model's rows). */
  stateSchema: z.ZodType<S>;
  /** The state of a stream with no events. Shared: treat as immutable. */
  initialState: S;
  /**
   * The version of the state's shape (default 1), stored with each snapshot. Bump it when
   * `evolve` or the state changes in a way `stateSchema` cannot tell (a field's meaning, a
   * computed value): every stream's snapshot then counts as stale and the state is folded from
   * its events once. A snapshot `stateSchema` refuses is dropped so without a bump.
   */
  stateVersion?: number;
  decide(command: C, state: S, ctx: DecideContext): Decision<E>;
  evolve(state: S, event: E): S;
}

/** Any decider, for code that hosts deciders generically (the Aggregate DO, the registry). */
export type AnyDecider = Decider<{ type: string }, NewEvent, unknown>;

/** The command type of a decider. */
export type CommandOf<D> = D extends Decider<infer C extends { type: string }, NewEvent, unknown> ? C : never;
/** The event type of a decider. */
export type EventOf<D> = D extends Decider<{ type: string }, infer E extends NewEvent, unknown> ? E : never;
/** The state type of a decider. */
export type StateOf<D> = D extends Decider<{ type: string }, NewEvent, infer S> ? S : never;

/**
 * Accepts a command with the given events (none for a no-op).
 *
 * @example
 * return accept({ type: "blog.post.published", data: { published_at: ctx.now, title: state.title } });
 */
export function accept<E extends NewEvent>(...events: E[]): Accepted<E> {
  return { ok: true, events };
}

/**
 * Rejects a command with a module error code.
 *
 * @example
 * return reject("post_already_published", "post is already published");
 */
export function reject(code: string, message: string): Rejected {
  return { ok: false, error: { code, message } };
}

/**
 * Evolves a state over events in order, starting from `from` (default: the
 * decider's initial state). Loading a stream is `fold(decider, events)`.
 *
 * @example
 * const state = fold(postDecider, storedEvents);
 */
export function fold<E extends NewEvent, S>(
  decider: Pick<Decider<{ type: string }, E, S>, "evolve" | "initialState">,
  events: readonly E[],
  from: S = decider.initialState,
): S {
  let state = from;
  for (const event of events) state = decider.evolve(state, event);
  return state;
}

/** The outcome of {@link handle}: the decision, and on acceptance the state after its events. */
export type Handled<E extends NewEvent, S> = (Accepted<E> & { state: S }) | Rejected;

/**
 * Decides a command and evolves the state over the resulting events: one
 * write of an aggregate, minus storage. On rejection the state is unchanged.
 *
 * @example
 * const result = handle(postDecider, state, command, { now, actor });
 * if (result.ok) persist(result.events, result.state);
 */
export function handle<C extends { type: string }, E extends NewEvent, S>(
  decider: Decider<C, E, S>,
  state: S,
  command: C,
  ctx: DecideContext,
): Handled<E, S> {
  const decision = decider.decide(command, state, ctx);
  if (!decision.ok) return decision;
  return { ok: true, events: decision.events, state: fold(decider, decision.events, state) };
}
