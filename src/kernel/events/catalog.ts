import { and, asc, eq, gt, gte, inArray } from "drizzle-orm";
import { eventStreams } from "../db/schema";
import type { Subscription } from "../modules/types";
import { jsonInsert, newerOnly, type ReadModelDb, readModels } from "../read-models";
import type { Envelope } from "./envelope";

/**
 * The writer type a stream belongs to: its second segment. Aggregates name
 * theirs `<tenant>/<type>/<id>`; other writers (the directory's `<tenant>/keys`,
 * `<tenant>/settings`) have no id, and are catalogued under that segment all
 * the same: a catalog that refused them would send their events to retries
 * and dead letters.
 */
function writerType(stream: string): string {
  return stream.split("/")[1] || "unknown";
}

/**
 * The kernel's stream catalog, a `"*"` batch subscription of the queue
 * consumer: each stream it sees, with the newest version seen (a version only
 * grows, so repeats and reordering are harmless). What a replay walks.
 */
export const streamCatalog: Subscription = {
  name: "streams",
  types: "*",
  async handleBatch(events, { env, clock }) {
    return { writes: catalogWrites(readModels(env), events, clock.now()) };
  },
};

/** A catalog row changes only to a newer version (kernel/read-models/json-rows.ts). */
const newerVersion = newerOnly(
  eventStreams,
  [eventStreams.stream],
  [eventStreams.version, eventStreams.updatedAt],
  eventStreams.version,
);

/**
 * The upserts recording each stream of `events` at its newest version, applied only over
 * an older one: a statement per hundred streams (a queue batch over a hundred aggregates
 * was a statement per stream).
 */
export function catalogWrites(db: ReadModelDb, events: readonly Envelope[], now: Date) {
  const newest = new Map<string, Envelope>();
  for (const e of events) {
    const seen = newest.get(e.stream);
    if (!seen || seen.version < e.version) newest.set(e.stream, e);
  }
  const at = now.toISOString();
  const rows = [...newest.values()].map((e) => ({
    stream: e.stream,
    tenantId: e.tenant_id,
    type: writerType(e.stream),
    version: e.version,
    updatedAt: at,
  }));
  const writes = jsonInsert(db, eventStreams, rows, newerVersion);
  // Text and integers only: the rows always have a JSON form.
  if (!writes) throw new Error("stream catalog: a value has no JSON form");
  return writes;
}

/** One stream of the catalog. */
export interface CatalogStream {
  stream: string;
  tenantId: string;
  type: string;
  version: number;
}

/** Whether the catalog lists `stream` as one of these writer types': a replay cursor names one it answered. */
export async function catalogHolds(db: ReadModelDb, types: readonly string[], stream: string): Promise<boolean> {
  const t = eventStreams;
  const rows = await db
    .select({ stream: t.stream })
    .from(t)
    .where(and(eq(t.stream, stream), inArray(t.type, [...types])))
    .limit(1);
  return rows.length > 0;
}

/** The catalog's streams of these writer types (and tenant), in stream order after `after` (or from it, `inclusive`). */
export async function catalogPage(
  db: ReadModelDb,
  query: { types: readonly string[]; tenantId?: string; after?: string; inclusive?: boolean; limit: number },
): Promise<CatalogStream[]> {
  const t = eventStreams;
  return db
    .select({ stream: t.stream, tenantId: t.tenantId, type: t.type, version: t.version })
    .from(t)
    .where(
      and(
        inArray(t.type, [...query.types]),
        query.tenantId ? eq(t.tenantId, query.tenantId) : undefined,
        query.after ? (query.inclusive ? gte : gt)(t.stream, query.after) : undefined,
      ),
    )
    .orderBy(asc(t.stream))
    .limit(query.limit);
}

/**
 * `subscription` with the catalog's upserts of its events' streams in each of its
 * transactions: how the writers' inline passes apply their subscriptions. Otherwise the
 * queue is the catalog's only source, and a delivery lost after the outbox let the events
 * go (Miniflare's broker keeps messages in memory, so killing workerd under `npm start`
 * loses them; deployed, a queue past its retention) leaves a stream no replay can find,
 * since a replay walks the catalog: the audit log and webhooks could not be given what
 * they missed. In the pass's own transaction, so it costs no round trip; version-guarded,
 * so the queue's later delivery of the same streams changes nothing.
 */
export function cataloguing(subscription: Subscription): Subscription {
  const handleBatch = subscription.handleBatch;
  if (!handleBatch) return subscription;
  return {
    ...subscription,
    async handleBatch(events, runtime, options) {
      const outcome = await handleBatch.call(subscription, events, runtime, options);
      const streams = catalogWrites(readModels(runtime.env), events, runtime.clock.now());
      return { ...outcome, writes: [...outcome.writes, ...streams] };
    },
  };
}
