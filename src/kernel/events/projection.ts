import type { BatchItem } from "drizzle-orm/batch";
import { groupBy } from "../db/params";
import type { Subscription } from "../modules/types";
import { type ReadModelDb, readModels } from "../read-models";
import { aggregateOf } from "./aggregate-rpc";
import type { Decider } from "./decider";
import { type Event, type EventUnion, eventTypes, type NewEvent, parseEvent, parseStream } from "./envelope";

/** An aggregate's place in a read model: its tenant and id. */
export interface RowKey {
  tenantId: string;
  id: string;
}

/** The key of `key` in the map {@link StateRows.load} returns. */
export const rowKey = ({ tenantId, id }: RowKey): string => `${tenantId}/${id}`;

/**
 * Where a state projection keeps each aggregate's state: one row per
 * aggregate with its version. `tableRows` (kernel/events/table-rows.ts) makes
 * one from a drizzle table.
 */
export interface StateRows<S> {
  /** The stored rows of these aggregates, by {@link rowKey}, in as few round trips as it can (one). */
  load(db: ReadModelDb, keys: readonly RowKey[]): Promise<Map<string, { version: number; state: S }>>;
  /**
   * The writes storing each aggregate's `state` at its `version` (none for a
   * state with nothing to store), in as few statements as the database's
   * limits allow: a batch's rows of many aggregates go together. Each row
   * must apply only where the stored row is older than its `version`, so a
   * late or repeated batch never moves a row back (the state at a version is
   * the same whoever computed it). Keys are distinct.
   */
  write(db: ReadModelDb, states: readonly StateAt<S>[]): BatchItem<"sqlite">[];
}

/** An aggregate's state at a version, to store. */
export interface StateAt<S> {
  key: RowKey;
  version: number;
  state: S;
}

/** One aggregate's stored row, or null: what a route's eventually consistent read uses. */
export async function loadRow<S>(
  rows: StateRows<S>,
  env: Env,
  key: RowKey,
): Promise<{ version: number; state: S } | null> {
  return (await rows.load(readModels(env), [key])).get(rowKey(key)) ?? null;
}

/** Events read from the writer per call while filling a gap. */
export const CATCH_UP_PAGE = 1000;

/**
 * A read model holding each aggregate's current state, kept by the decider's
 * own `evolve`. A batch is grouped by stream: each stream's row is loaded
 * (one query for the batch), its new events applied in version order, and
 * its final state written once, guarded by version, so the read model ends
 * up the same whatever the delivery order and however often each event
 * arrives. On a gap the missing events are read from the aggregate's single
 * writer, `pageSize` at a time (or, in the writer's own inline pass, left to
 * the queue); the delivery is retried when the writer does not have them.
 * `inline` (the default) also applies it right after each commit.
 *
 * @example
 * export const postProjection = stateProjection("blog.posts", postDecider, postRows);
 * // in the module: events: { publishes: PostEventSchema, subscribes: [postProjection] }
 */
export function stateProjection<C extends { type: string }, E extends NewEvent, S>(
  name: string,
  decider: Decider<C, E, S> & { eventSchema: EventUnion<E> },
  rows: StateRows<S>,
  options: { pageSize?: number; inline?: boolean } = {},
): Subscription {
  const pageSize = options.pageSize ?? CATCH_UP_PAGE;
  return {
    name,
    types: eventTypes(decider.eventSchema),
    inline: options.inline ?? true,
    async handleBatch(envelopes, { env }, { fillGaps, writerStates }) {
      const streams = groupBy(
        envelopes.map((envelope) => parseEvent(decider.eventSchema, envelope)),
        (event) => event.stream,
      );
      const db = readModels(env);
      const states: StateAt<S>[] = [];
      // In the writer's inline pass: its own state, stored as it is (no read, no replay, no gap).
      const keys: RowKey[] = [];
      for (const [stream, events] of streams) {
        const { tenantId, type, id } = parseStream(stream);
        const own = type === decider.type ? writerStates?.get(stream) : undefined;
        if (own && own.version >= Math.max(...events.map((e) => e.version))) {
          states.push({ key: { tenantId, id }, version: own.version, state: own.state as S });
        } else keys.push({ tenantId, id });
      }
      const stored = keys.length > 0 ? await rows.load(db, keys) : new Map<string, { version: number; state: S }>();
      const deferred: string[] = [];
      for (const key of keys) {
        const events = (streams.get(`${key.tenantId}/${decider.type}/${key.id}`) ?? []).sort(
          (a, b) => a.version - b.version,
        );
        const loaded = stored.get(rowKey(key))?.version ?? 0;
        let current = stored.get(rowKey(key)) ?? { version: 0, state: decider.initialState };
        const apply = (e: Event<E>) => {
          current = { version: e.version, state: decider.evolve(current.state, e) };
        };
        for (const [i, event] of events.entries()) {
          if (event.version <= current.version) continue;
          if (event.version > current.version + 1) {
            if (!fillGaps) {
              deferred.push(...events.slice(i).map((e) => e.id));
              break;
            }
            await fill(env, key, event.version - 1, () => current.version, apply);
          }
          apply(event);
        }
        if (current.version > loaded) states.push({ key, version: current.version, state: current.state });
      }
      return { writes: rows.write(db, states), deferred };
    },
  };

  /** Applies the writer's events after `version()` up to `through`, page by page; throws if it lacks one. */
  async function fill(
    env: Env,
    { tenantId, id }: RowKey,
    through: number,
    version: () => number,
    apply: (e: Event<E>) => void,
  ): Promise<void> {
    const writer = aggregateOf(env, decider, tenantId, id);
    while (version() < through) {
      const before = version();
      const page = await writer.read(before + 1, Math.min(through - before, pageSize));
      for (const e of page) {
        if (e.version !== version() + 1 || e.version > through) break;
        apply(e);
      }
      if (version() === before) {
        throw new Error(`${name}: ${tenantId}/${decider.type}/${id} has no version ${before + 1} at its writer`);
      }
    }
  }
}
