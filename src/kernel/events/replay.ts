import type { DeciderRegistry } from "../../../durable-objects/aggregate";
import { AppError } from "../errors";
import { errorText } from "../log";
import type { ModuleDef, ModuleRuntime } from "../modules/types";
import { readModels } from "../read-models";
import { aggregateOf } from "./aggregate-rpc";
import { catalogHolds, catalogPage } from "./catalog";
import { applyRoute, canonicalOrder, type Route, wants } from "./consume";
import { type Envelope, eventTypes, parseStream } from "./envelope";
import { processedLedger } from "./ledger";
import { CATCH_UP_PAGE } from "./projection";
import { rebuildFromState, type StateRebuildProgress, type TenantWalk } from "./rebuild-state";

/** Events one replay call reads at most, unless the request asks for fewer. */
export const REPLAY_EVENTS_PER_CALL = 5000;

/** One replay call: a page of the catalog's streams for one subscription. */
export interface ReplayRequest {
  /** `<module>:<subscription>`, as the ledger names it. */
  consumer: string;
  tenantId?: string;
  /** The previous call's `next`: a stream (start after it) or a place inside one ({@link ReplayCursor}). */
  after?: string;
  /** Streams per call. */
  limit: number;
  /** Events read per call at most ({@link REPLAY_EVENTS_PER_CALL} by default); a longer stream goes on in the next call. */
  maxEvents?: number;
  /**
   * Apply every event again, recorded or not (a read model emptied to be
   * rebuilt); batch subscriptions only. Otherwise only events the ledger has
   * not recorded for the subscription (a backfill, a catch-up).
   */
  rebuild: boolean;
}

/** What one call did, and where the next starts (null: done). */
export type ReplayAnswer = ReplayProgress | ({ consumer: string; source: "state" } & StateRebuildProgress);

/** What one call replaying events did, and where the next starts (null: done). */
export interface ReplayProgress {
  consumer: string;
  source: "events";
  /** Streams this call read to their end (a stream cut between calls counts once, in the call that ends it). */
  streams: number;
  events: number;
  applied: number;
  next: string | null;
  /**
   * Event types the subscription wants that no replay can read: their writers keep
   * no event log ({@link replayScope}). A catch-up applies everything else.
   */
  unreadable: string[];
  /** Whether the subscription's read model can be copied whole from its objects' state (`rebuild: true`). */
  rebuild_from_state: boolean;
}

/**
 * What a replay of `route` can read. Aggregates keep every event they wrote, so the
 * streams of the aggregate types of the modules publishing a wanted type are read
 * from their objects. The other writers (the tenant directory, actors such as the
 * file store and the webhook endpoints) send their events from an outbox and keep
 * none once the queue has them: the wanted types of a module with no aggregate are
 * `unreadable`. A module with aggregates is taken to write its events through them.
 */
export function replayScope(
  modules: readonly ModuleDef[],
  route: Route,
): { aggregateTypes: string[]; unreadable: string[] } {
  const aggregateTypes: string[] = [];
  const unreadable: string[] = [];
  for (const m of modules) {
    const wanted = m.events?.publishes ? eventTypes(m.events.publishes).filter((t) => wants(route, t)) : [];
    if (wanted.length === 0) continue;
    if (m.aggregates?.length) aggregateTypes.push(...m.aggregates.map((a) => a.decider.type));
    else unreadable.push(...wanted);
  }
  return { aggregateTypes, unreadable: unreadable.sort() };
}

/**
 * Refuses what a replay could only do wrong: a rebuild that would repeat effects
 * outside the read model, a rebuild that would leave out events no replay can
 * read (the emptied read model would come back incomplete and look whole), and a
 * replay that could read nothing at all. Names the event types in each case.
 */
function refusals(consumer: string, route: Route, scope: ReturnType<typeof replayScope>, rebuild: boolean): void {
  const refuse = (path: string, message: string): never => {
    throw new AppError("validation_failed", { detail: message, errors: [{ path, message }] });
  };
  const few = (types: string[]) => (types.length > 6 ? `${types.slice(0, 6).join(", ")} …` : types.join(", "));
  if (scope.aggregateTypes.length === 0 && scope.unreadable.length > 0) {
    // A catch-up of a read model its objects hold whole: say what does bring it back.
    const instead = route.subscription.rebuildFrom ? "; rebuild: true (--rebuild) copies it from their state" : "";
    refuse(
      "body.consumer",
      `${consumer} wants only events whose writers keep no event log (${few(scope.unreadable)}): replay cannot read them${instead}`,
    );
  }
  if (!rebuild) return;
  if (!route.subscription.handleBatch) {
    refuse("body.rebuild", `${consumer} handles events one at a time: rebuild is for batch subscriptions`);
  } else if (route.subscription.rebuild === false) {
    refuse("body.rebuild", `${consumer} has effects outside its read model that applying events again would repeat`);
  }
  if (scope.unreadable.length > 0) {
    refuse(
      "body.rebuild",
      `a rebuild of ${consumer} would leave out ${scope.unreadable.length} event types whose writers keep no event log (${few(scope.unreadable)}); a catch-up applies the rest`,
    );
  }
}

/** A tenant cursor (a rebuild from state answered it) given to a replay of events. */
function refuseCursor(consumer: string): never {
  const message = `${consumer} replays events: the cursor must be a stream one of its answers named`;
  throw new AppError("validation_failed", { detail: message, errors: [{ path: "body.after", message }] });
}

/**
 * Whether a cursor's stream is one a replay of these writer types can have answered: the catalog
 * lists it, or its tenant is being deleted or erased (the erasure removes the tenant's catalog
 * rows, and can do so between two calls of one run, which must go on past it). A stream nobody
 * wrote (a mistyped id) was walked on from where it sorted: "done" after nothing, or every stream
 * again.
 */
async function cursorStreamKnown(
  platform: { gone?: (tenantIds: readonly string[]) => Promise<ReadonlySet<string>> },
  runtime: ModuleRuntime,
  types: readonly string[],
  stream: string,
): Promise<boolean> {
  if (types.length > 0 && (await catalogHolds(readModels(runtime.env), types, stream))) return true;
  const tenantId = stream.split("/")[0] ?? "";
  return (await platform.gone?.([tenantId]))?.has(tenantId) ?? false;
}

/**
 * Where a replay goes on. A call ends after a whole stream (`next` is that
 * stream, and the next call starts after it), or, when its event budget runs
 * out inside a stream, at a version of it: `next` is then
 * `<last version read>@<stream>`. Streams begin with their tenant's id, which
 * has no `@` (kernel/crypto `newId`), so the two forms cannot be confused;
 * callers pass `next` back as `after` without looking inside.
 */
interface ReplayCursor {
  stream: string;
  /** Set when the stream itself is not finished: its events after this version are next. */
  version?: number;
}

function parseCursor(after: string): ReplayCursor {
  const inside = /^(\d+)@(.+)$/.exec(after);
  return inside ? { stream: inside[2] ?? "", version: Number(inside[1]) } : { stream: after };
}

/** The cursor of a call that stopped inside `stream`, after `version`. */
function cursorInside(stream: string, version: number): string {
  return `${version}@${stream}`;
}

/**
 * Replays the writers' events to one subscription, a page of streams at a
 * time, through the same batched path as the queue (one transaction for the
 * page's writes and marks). Streams come from the kernel's catalog; only
 * aggregates (whose writers can be read) whose event types the subscription
 * wants are visited ({@link replayScope}). A call holds at most `maxEvents` events in memory, so a
 * stream of any length replays (a long one over several calls). A failure
 * stops the call with the events it could not apply; nothing half-applied
 * stays. A rebuild of a subscription that declares `rebuildFrom` copies its
 * objects' state instead (rebuild-state.ts), events no replay can read included.
 */
export async function replayPage(
  platform: {
    modules: readonly ModuleDef[];
    routes: readonly Route[];
    deciders: DeciderRegistry;
    tenants?: TenantWalk;
    /**
     * Of these tenants, those deleted (being erased, or erased): the registry's answer
     * (`TenantLookup.gone`). Their events are read but not applied, as the queue consumer
     * drops them: a call in flight across an erasure would write back rows its tables step
     * deleted. Without it (no registry) every event is applied.
     */
    gone?: (tenantIds: readonly string[]) => Promise<ReadonlySet<string>>;
  },
  runtime: ModuleRuntime,
  request: ReplayRequest,
): Promise<ReplayAnswer> {
  const route = platform.routes.find((r) => r.consumer === request.consumer);
  if (!route) {
    // A name mistyped at the CLI: say which there are, as `plinth modules list` would.
    const known = platform.routes.map((r) => r.consumer).sort();
    throw new AppError("not_found", { detail: `no subscription ${request.consumer}; there are: ${known.join(", ")}` });
  }
  const source = route.subscription.rebuildFrom;
  if (request.rebuild && source) {
    // Its objects hold the whole of what the read model copies, events no replay can read included.
    const progress = await rebuildFromState(source, platform.tenants, runtime, {
      consumer: route.consumer,
      tenantId: request.tenantId,
      after: request.after,
      limit: request.limit,
      maxRecords: request.maxEvents ?? REPLAY_EVENTS_PER_CALL,
    });
    return { consumer: route.consumer, source: "state", ...progress };
  }
  if (request.after !== undefined && !request.after.includes("/")) {
    refuseCursor(request.consumer);
  }
  const scope = replayScope(platform.modules, route);
  refusals(request.consumer, route, scope, request.rebuild);
  const types = scope.aggregateTypes;
  const cursor = request.after === undefined ? undefined : parseCursor(request.after);
  // A stream begins with its tenant's id: walked on from another tenant's, a one-tenant replay
  // visited none of its own and said done, as a rebuild from state refuses to.
  if (cursor && request.tenantId !== undefined && !cursor.stream.startsWith(`${request.tenantId}/`)) {
    const message = "the cursor is another tenant's stream: pass back the `next` of this tenant's replay";
    throw new AppError("validation_failed", { detail: message, errors: [{ path: "body.after", message }] });
  }
  if (cursor && !(await cursorStreamKnown(platform, runtime, types, cursor.stream))) {
    const message = `no stream ${cursor.stream} of ${request.consumer}'s writers: pass back a \`next\` its replay answered (a mistyped cursor would walk on from where it sorts)`;
    throw new AppError("validation_failed", { detail: message, errors: [{ path: "body.after", message }] });
  }
  const streams = types.length
    ? await catalogPage(readModels(runtime.env), {
        types,
        tenantId: request.tenantId,
        after: cursor?.stream,
        // A cursor inside a stream starts with the rest of that stream.
        inclusive: cursor?.version !== undefined,
        limit: request.limit,
      })
    : [];
  const { events, read, finished, next } = await readStreams(platform.deciders, runtime, route, streams, {
    cursor,
    budget: request.maxEvents ?? REPLAY_EVENTS_PER_CALL,
    pageFull: streams.length === request.limit,
  });
  const gone = (await platform.gone?.(events.map((e) => e.tenant_id))) ?? new Set<string>();
  const live = events.filter((e) => !gone.has(e.tenant_id));
  if (gone.size > 0) {
    runtime.log.info("replay skipped events of deleted tenants", {
      consumer: route.consumer,
      events: events.length - live.length,
      tenant_ids: [...gone],
    });
  }
  const seen = request.rebuild
    ? new Set<string>()
    : await processedLedger(readModels(runtime.env)).seenMany(
        [route.consumer],
        live.map((e) => e.id),
      );
  const todo = canonicalOrder(live.filter((e) => !seen.has(`${route.consumer}\u0000${e.id}`)));
  const failures = await applyRoute(route, todo, runtime, { fillGaps: true, reapply: request.rebuild }, "replay");
  if (failures.size > 0) {
    const [[id, why] = ["", null]] = failures;
    // Its text here without a failed query's values: errorFields leaves them out of the causes it
    // walks, but not out of a message that quotes one.
    const first = `replay of ${request.consumer}: ${failures.size} events failed, first ${id}: ${errorText(why)}`;
    throw new AppError("internal", {
      // The first failure stays the cause's cause, so the log walks down to what the driver said
      // (a read-model table missing names the table and the migration to apply).
      cause: new Error(first, { cause: why }),
    });
  }
  return {
    consumer: route.consumer,
    source: "events",
    streams: finished,
    events: read,
    applied: todo.length,
    next,
    unreadable: scope.unreadable,
    rebuild_from_state: route.subscription.rebuildFrom !== undefined,
  };
}

/**
 * Reads the page's streams from their writers, in catalog order, until the
 * budget of events is spent: the events the subscription wants, how many were
 * read in all, how many streams were read to their end, and the cursor of
 * the next call (null when the page was the catalog's last and is done).
 */
async function readStreams(
  deciders: DeciderRegistry,
  runtime: ModuleRuntime,
  route: Route,
  streams: readonly { stream: string }[],
  { cursor, budget, pageFull }: { cursor?: ReplayCursor; budget: number; pageFull: boolean },
): Promise<{ events: Envelope[]; read: number; finished: number; next: string | null }> {
  const events: Envelope[] = [];
  let read = 0;
  let finished = 0;
  for (const [i, s] of streams.entries()) {
    const { tenantId, type, id } = parseStream(s.stream);
    const entry = deciders.get(type);
    if (!entry) continue;
    const writer = aggregateOf(runtime.env, entry.decider, tenantId, id);
    let from = s.stream === cursor?.stream && cursor.version !== undefined ? cursor.version + 1 : 1;
    for (;;) {
      if (read >= budget) return { events, read, finished, next: cursorInside(s.stream, from - 1) };
      const want = Math.min(CATCH_UP_PAGE, budget - read);
      const page = await writer.read(from, want);
      read += page.length;
      events.push(...page.filter((e) => wants(route, e.type)));
      const last = page.at(-1);
      if (!last || page.length < want) break;
      from = last.version + 1;
    }
    finished++;
    // Spent at the end of a stream: the next call starts after it (or the page is done).
    if (read >= budget && i < streams.length - 1) return { events, read, finished, next: s.stream };
  }
  const last = streams.at(-1);
  return { events, read, finished, next: last && pageFull ? last.stream : null };
}
