import type { DeciderRegistry } from "../../../durable-objects/aggregate";
import { AppError } from "../errors";
import type { ModuleDef, ModuleRuntime } from "../modules/types";
import { readModels } from "../read-models";
import { aggregateOf } from "./aggregate-rpc";
import { catalogPage } from "./catalog";
import { applyRoute, canonicalOrder, type Route, wants } from "./consume";
import { type Envelope, eventTypes } from "./envelope";
import { processedLedger } from "./ledger";
import { CATCH_UP_PAGE, parseStream } from "./projection";

/** One replay call: a page of the catalog's streams for one subscription. */
export interface ReplayRequest {
  /** `<module>:<subscription>`, as the ledger names it. */
  consumer: string;
  tenantId?: string;
  /** The last stream of the previous page. */
  after?: string;
  /** Streams per call. */
  limit: number;
  /**
   * Apply every event again, recorded or not (a read model emptied to be
   * rebuilt); batch subscriptions only. Otherwise only events the ledger has
   * not recorded for the subscription (a backfill, a catch-up).
   */
  rebuild: boolean;
}

/** What one call did, and where the next starts (null: done). */
export interface ReplayProgress {
  consumer: string;
  streams: number;
  events: number;
  applied: number;
  next: string | null;
}

/**
 * Replays the writers' events to one subscription, a page of streams at a
 * time, through the same batched path as the queue (one transaction for the
 * page's writes and marks). Streams come from the kernel's catalog; only
 * aggregates (whose writers can be read) whose event types the subscription
 * wants are visited. A failure stops the call with the events it could not
 * apply; nothing half-applied stays.
 */
export async function replayPage(
  platform: { modules: readonly ModuleDef[]; routes: readonly Route[]; deciders: DeciderRegistry },
  runtime: ModuleRuntime,
  request: ReplayRequest,
): Promise<ReplayProgress> {
  const route = platform.routes.find((r) => r.consumer === request.consumer);
  if (!route) throw new AppError("not_found", { detail: `no subscription ${request.consumer}` });
  if (request.rebuild && !route.subscription.handleBatch) {
    throw new AppError("validation_failed", {
      detail: "rebuild applies recorded events again: only batch subscriptions, whose writes are repeat-safe",
      errors: [{ path: "body.rebuild", message: `${request.consumer} handles events one at a time` }],
    });
  }
  // The aggregate types of the modules that publish an event type the subscription wants.
  const types = platform.modules
    .filter((m) => {
      const published = m.events?.publishes;
      return published !== undefined && eventTypes(published).some((t) => wants(route, t));
    })
    .flatMap((m) => (m.aggregates ?? []).map((a) => a.decider.type));
  const streams = types.length
    ? await catalogPage(readModels(runtime.env), {
        types,
        tenantId: request.tenantId,
        after: request.after,
        limit: request.limit,
      })
    : [];
  const events: Envelope[] = [];
  for (const s of streams) {
    const { tenantId, type, id } = parseStream(s.stream);
    const entry = platform.deciders.get(type);
    if (!entry) continue;
    const writer = aggregateOf(runtime.env, entry.decider, tenantId, id);
    for (let from = 1; ; ) {
      const page = await writer.read(from, CATCH_UP_PAGE);
      events.push(...page.filter((e) => wants(route, e.type)));
      const last = page.at(-1);
      if (!last || page.length < CATCH_UP_PAGE) break;
      from = last.version + 1;
    }
  }
  const seen = request.rebuild
    ? new Set<string>()
    : await processedLedger(readModels(runtime.env)).seenMany(
        [route.consumer],
        events.map((e) => e.id),
      );
  const todo = canonicalOrder(events.filter((e) => !seen.has(`${route.consumer}\u0000${e.id}`)));
  const failures = await applyRoute(route, todo, runtime, { fillGaps: true }, "replay");
  if (failures.size > 0) {
    const [[id, why] = ["", null]] = failures;
    throw new AppError("internal", {
      cause: new Error(`replay of ${request.consumer}: ${failures.size} events failed, first ${id}: ${String(why)}`),
    });
  }
  const last = streams.at(-1);
  return {
    consumer: route.consumer,
    streams: streams.length,
    events: events.length,
    applied: todo.length,
    next: last && streams.length === request.limit ? last.stream : null,
  };
}
