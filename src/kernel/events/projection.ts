import type { Subscription } from "../modules/types";
import { aggregateOf } from "./aggregate-rpc";
import type { Decider } from "./decider";
import { type Envelope, type Event, type EventUnion, eventTypes, type NewEvent, parseEvent } from "./envelope";

/** An aggregate's place in a read model: its tenant and id. */
export interface RowKey {
  tenantId: string;
  id: string;
}

/** Splits `<tenant>/<type>/<id>`. */
export function parseStream(stream: string): { tenantId: string; type: string; id: string } {
  const [tenantId, type, ...rest] = stream.split("/");
  if (!tenantId || !type || rest.length === 0) throw new Error(`malformed stream "${stream}"`);
  return { tenantId, type, id: rest.join("/") };
}

/**
 * Where a state projection keeps each aggregate's state: one row per
 * aggregate with its version. `save` must write only where the stored
 * version is `version - 1` (no row for version 1), so concurrent or repeated
 * deliveries cannot apply an event twice.
 */
export interface StateRows<S> {
  load(env: Env, key: RowKey): Promise<{ version: number; state: S } | null>;
  save(env: Env, key: RowKey, version: number, state: S): Promise<void>;
}

/** Events read from the writer per call while filling a gap. */
export const CATCH_UP_PAGE = 1000;

/**
 * A read model holding each aggregate's current state, kept by the decider's
 * own `evolve`: an event is applied to the row's state at the version before
 * it, so the read model ends up the same whatever the delivery order and
 * however often each event arrives. On a gap the missing events are read
 * from the aggregate's single writer, `pageSize` at a time, and applied in
 * order; the delivery is retried when the writer does not have them.
 *
 * @example
 * export const postProjection = stateProjection("blog.posts", postDecider, postRows);
 * // in the module: events: { publishes: PostEventSchema, subscribes: [postProjection] }
 */
export function stateProjection<C extends { type: string }, E extends NewEvent, S>(
  name: string,
  decider: Decider<C, E, S> & { eventSchema: EventUnion<E> },
  rows: StateRows<S>,
  pageSize: number = CATCH_UP_PAGE,
): Subscription {
  const apply = (env: Env, envelope: Envelope) => project(env, parseEvent(decider.eventSchema, envelope));
  return { name, types: eventTypes(decider.eventSchema), handle: (envelope, { env }) => apply(env, envelope) };

  async function project(env: Env, event: Event<E>): Promise<void> {
    const { tenantId, id } = parseStream(event.stream);
    const key = { tenantId, id };
    let current = (await rows.load(env, key)) ?? { version: 0, state: decider.initialState };
    if (event.version <= current.version) return;
    const apply = async (e: Event<E>) => {
      current = { version: e.version, state: decider.evolve(current.state, e) };
      await rows.save(env, key, current.version, current.state);
    };
    if (event.version === current.version + 1) return apply(event);
    const writer = aggregateOf(env, decider, tenantId, id);
    while (current.version < event.version) {
      const page = await writer.read(current.version + 1, Math.min(event.version - current.version, pageSize));
      const before = current.version;
      for (const e of page) {
        if (e.version !== current.version + 1 || e.version > event.version) break;
        await apply(e);
      }
      if (current.version === before) {
        throw new Error(`${name}: ${event.stream} has no version ${current.version + 1} at its writer`);
      }
    }
  }
}
