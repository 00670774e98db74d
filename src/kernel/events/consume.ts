/**
 * Applying delivered events to subscriptions a batch at a time, shared by the
 * queue consumer (kernel/events/queue.ts) and the writers' inline pass (the
 * Aggregate object, right after a commit). A batch subscription's writes and
 * its ledger marks commit in one transaction of the read-model database; a failing batch is retried
 * one event at a time, so only a poison event fails.
 */
import { isTenantErased } from "../durable/tombstone";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";
import type { BatchOptions, ModuleDef, ModuleRuntime, Subscription } from "../modules/types";
import { commit, readModels } from "../read-models";
import { contextOf, inSpan, tracing } from "../telemetry";
import { streamCatalog } from "./catalog";
import type { Envelope } from "./envelope";
import { processedLedger } from "./ledger";

/** A subscription with the ledger key it records under. */
export interface Route {
  module: string;
  /** Keys the idempotency ledger: `<module>:<subscription>`. */
  consumer: string;
  subscription: Subscription;
}

/**
 * Every subscription of the modules, type-specific ones first, then `"*"`
 * ones, in module order, and last the kernel's stream catalog.
 */
export function routesOf(modules: readonly ModuleDef[]): Route[] {
  const routes = modules.flatMap((m) =>
    (m.events?.subscribes ?? []).map((subscription) => ({
      module: m.name,
      consumer: `${m.name}:${subscription.name}`,
      subscription,
    })),
  );
  return [
    ...routes.filter((r) => r.subscription.types !== "*"),
    ...routes.filter((r) => r.subscription.types === "*"),
    { module: "kernel", consumer: "kernel:streams", subscription: streamCatalog },
  ];
}

/** Whether `route` wants events of `type`. */
export const wants = (route: Route, type: string): boolean =>
  route.subscription.types === "*" || route.subscription.types.includes(type);

/**
 * The order a batch is applied in: by time, then stream and version. Events
 * of one stream keep their version order, and the same set of events is
 * applied in the same order however it arrived (so the audit chain of a
 * batch does not depend on delivery order).
 */
export function canonicalOrder(events: readonly Envelope[]): Envelope[] {
  return [...events].sort(
    (a, b) =>
      a.occurred_at.localeCompare(b.occurred_at) ||
      a.stream.localeCompare(b.stream) ||
      a.version - b.version ||
      a.id.localeCompare(b.id),
  );
}

/** An event a batch handler left for later (a gap it may not fill here). */
export class Deferred extends Error {
  constructor(eventId: string) {
    super(`event ${eventId} was deferred: its predecessors are not applied yet`);
    this.name = "Deferred";
  }
}

/** The events' trace context when they all share one trace (one command's events); else the caller's. */
function sharedTrace(events: readonly Envelope[]) {
  const traces = new Set(events.map((e) => e.trace?.traceparent.slice(3, 35)));
  return traces.size === 1 ? contextOf(events[0]?.trace) : undefined;
}

/** Told of each event dropped because its tenant's object refused it as erased (`dropErased`). */
export type OnErased = (event: Envelope) => void;

/**
 * Applies `events` (of the route's types, in canonical order, none recorded
 * for it yet) to one route and records them. Returns the events it could not
 * apply, with why; never throws. `onErased` hears of each event an erased
 * object refused (the queue consumer then drops the tenant's other events).
 */
export async function applyRoute(
  route: Route,
  events: readonly Envelope[],
  runtime: ModuleRuntime,
  options: BatchOptions,
  path: ApplyPath,
  onErased?: OnErased,
): Promise<Map<string, unknown>> {
  const failures =
    !tracing() || events.length === 0
      ? await applyEvents(route, events, runtime, options, onErased)
      : await inSpan(
          `projection.apply ${route.consumer}`,
          {
            "plinth.module": route.module,
            "plinth.subscription": route.consumer,
            "plinth.path": path,
            "event.type": [...new Set(events.map((e) => e.type))].join(","),
            "plinth.events": events.length,
          },
          async (span) => {
            const failed = await applyEvents(route, events, runtime, options, onErased);
            span?.setAttribute("plinth.failed", failed.size);
            return failed;
          },
          { parent: sharedTrace(events) },
        );
  // Projection lag: from each event's occurrence to its application, by subscription and path.
  const now = runtime.clock.now().getTime();
  for (const e of events) {
    if (failures.has(e.id)) continue;
    const lag = (now - Date.parse(e.occurred_at)) / 1000;
    isolateRecorder.observe(METRICS.projectionLag, [route.consumer, path], Math.max(lag, 0));
  }
  return failures;
}

/** Which read path applied events: the writer's inline pass, the queue consumer, or a replay. */
export type ApplyPath = "inline" | "queue" | "replay";

async function applyEvents(
  route: Route,
  events: readonly Envelope[],
  runtime: ModuleRuntime,
  options: BatchOptions,
  onErased: OnErased | undefined,
): Promise<Map<string, unknown>> {
  const failures = new Map<string, unknown>();
  if (events.length === 0) return failures;
  const db = readModels(runtime.env);
  const ledger = processedLedger(db);
  const now = runtime.clock.now();
  const sub = route.subscription;
  if (sub.handleBatch) {
    try {
      const { writes, deferred = [] } = await sub.handleBatch(events, runtime, options);
      const left = new Set(deferred);
      const applied = events.filter((e) => !left.has(e.id)).map((e) => e.id);
      // A rebuild applies recorded events again on purpose; otherwise the marks claim the events,
      // so a path that lost a race to another (both read the ledger first) commits nothing.
      const marks = options.reapply ? ledger.marks : ledger.claims;
      await commit(db, [...writes, ...marks(route.consumer, applied, now)]);
      for (const id of left) failures.set(id, new Deferred(id));
    } catch (error) {
      const rest = options.reapply ? events : await unrecorded(ledger, route.consumer, events);
      // Another path applied some of them since the caller's ledger read: they are done; the rest go again.
      if (rest.length < events.length) return applyEvents(route, rest, runtime, options, onErased);
      const [only, ...more] = events;
      if (only && more.length === 0) {
        if (isTenantErased(error)) dropErased(route, only, runtime, onErased);
        else failures.set(only.id, error);
      }
      // One at a time: only the poison event fails; the others commit on their own.
      else
        for (const e of events)
          for (const [id, why] of await applyEvents(route, [e], runtime, options, onErased)) failures.set(id, why);
    }
    return failures;
  }
  const applied: string[] = [];
  for (const e of events) {
    try {
      await sub.handle(e, runtime);
      applied.push(e.id);
    } catch (error) {
      if (isTenantErased(error)) dropErased(route, e, runtime, onErased);
      else failures.set(e.id, error);
    }
  }
  try {
    await commit(db, ledger.marks(route.consumer, applied, now));
  } catch (error) {
    // Applied but not recorded: retried, and applied once more (subscribers tolerate a repeat).
    for (const id of applied) failures.set(id, error);
  }
  return failures;
}

/** The events `consumer` has not recorded; all of them when the ledger cannot be read (the caller's failure stands). */
async function unrecorded(
  ledger: ReturnType<typeof processedLedger>,
  consumer: string,
  events: readonly Envelope[],
): Promise<readonly Envelope[]> {
  try {
    const seen = await ledger.seenMany(
      [consumer],
      events.map((e) => e.id),
    );
    return events.filter((e) => !seen.has(`${consumer}\u0000${e.id}`));
  } catch {
    return events;
  }
}

/**
 * An event whose tenant's object refused it as erased (`TenantErased`, kernel/durable/tombstone.ts):
 * a batch that passed the tenant check before the deletion (an isolate's cached "not deleted"),
 * reaching objects the erasure already emptied. Retrying cannot succeed and its dead letter
 * would carry the erased tenant's data, so it is dropped: no failure (the message is acked)
 * and no ledger mark, one info line naming the tenant and the type.
 */
function dropErased(route: Route, event: Envelope, runtime: ModuleRuntime, onErased: OnErased | undefined): void {
  onErased?.(event);
  runtime.log.info("event of an erased tenant dropped", {
    subscriber: route.consumer,
    tenant_id: event.tenant_id,
    event_id: event.id,
    event_type: event.type,
  });
}

/**
 * This isolate's consumer figures since it started: how many batches,
 * messages and events the queue consumer and the writers' inline passes
 * handled, how many (subscription, event) applications that made, and the D1
 * round trips they took. Served at `GET /api/v1/platform/events/consumer`.
 */
export const consumerStats = {
  queue: { batches: 0, messages: 0, events: 0, applied: 0, d1_round_trips: 0 },
  inline: { passes: 0, events: 0, applied: 0, deferred: 0, failed: 0, stalled: 0, d1_round_trips: 0 },
};
