// Subscriptions: how a module's handlers receive delivered events (one at a time or a batch
// at a time), and where a read model is rebuilt from when its events cannot all be read
// again. Kept apart from types.ts, which re-exports them, so each file stays one subject.
import type { BatchItem } from "drizzle-orm/batch";
import type { Envelope } from "../events/envelope";
import type { ModuleRuntime } from "./types";

/**
 * Handles delivered events of some types (or of every type, `"*"`), one at a
 * time (`handle`) or a batch at a time (`handleBatch`). Made with
 * `subscribe()` / `subscribeAll()` (kernel/events/subscribe.ts) or
 * `stateProjection()` (kernel/events/projection.ts), which parse each event
 * with its publisher's declared schema first. Throwing retries the message;
 * a `MalformedEvent` sends it to the dead letters at once.
 */
export type Subscription = SubscriptionBase & (OneAtATime | Batched);

interface SubscriptionBase {
  /** Unique within the module; with the module's name it keys the consumer's idempotency ledger. */
  name: string;
  types: readonly string[] | "*";
}

interface OneAtATime {
  handle(event: Envelope, runtime: ModuleRuntime): Promise<void>;
  handleBatch?: undefined;
  inline?: undefined;
  rebuildFrom?: undefined;
}

interface Batched {
  handle?: undefined;
  /**
   * Applies several events at once: they arrive in (occurred_at, stream,
   * version) order, none already recorded for this subscription. Returns the
   * D1 writes that apply them; the kernel commits those in one transaction
   * with the ledger marks of the events applied, so they count all or not at
   * all. Throwing makes the kernel retry the events one at a time (a batch of
   * one each), so a poison event is retried alone.
   */
  handleBatch(events: readonly Envelope[], runtime: ModuleRuntime, options: BatchOptions): Promise<BatchOutcome>;
  /**
   * Also applied by the writer right after its commit, before the queue
   * delivers the events, so the read model shows a write within
   * milliseconds; the queue's delivery then finds it recorded. Only for
   * subscriptions whose writes are repeat-safe (a version-guarded state
   * projection). See docs/events.md.
   */
  inline?: boolean;
  /**
   * `false` when applying a recorded event again would repeat an effect outside the
   * read model (the webhook dispatch queues it at the endpoints that want it today,
   * enabled or not when it happened): `events replay --rebuild` is then refused. A
   * catch-up, which applies only events the subscription never recorded, still runs.
   */
  rebuild?: boolean;
  /**
   * Where the read model can be rebuilt from when its events cannot all be read again:
   * a per-tenant object that keeps in its own state what the rows show (the audit
   * log's chain, the file store's live files). `events replay --rebuild` then copies that state, a page at a
   * time, instead of applying events (kernel/events/rebuild-state.ts).
   */
  rebuildFrom?: RebuildSource;
}

/**
 * A read model's source of truth that is not an event log: one object per tenant
 * holding, as ordered records, what the read model shows. Writers that send their
 * events from an outbox keep none, so a replay cannot read them; the object whose
 * state they described still holds it (a row it no longer has, such as a deleted
 * file's tombstone, is left to the read model).
 */
export interface RebuildSource {
  /**
   * Reads at most `limit` of the tenant's records after position `after` (0: from the
   * first) and returns the read-model writes that copy them. They must be repeat-safe,
   * as the live subscription's own are: the kernel commits each page in one
   * transaction, and a rebuild may run twice or race the live path. `after + 1` is always a safe
   * integer: the replay route refuses a cursor past that (kernel/events/routes.ts).
   */
  page(runtime: ModuleRuntime, tenantId: string, after: number, limit: number): Promise<RebuildPage>;
}

/** One page a {@link RebuildSource} read. */
export interface RebuildPage {
  writes: readonly BatchItem<"sqlite">[];
  /** Records read. */
  read: number;
  /** The position of the last record read (`after` when none): where the next page starts after. */
  last: number;
  /** Whether the tenant's records end here. */
  done: boolean;
}

/** How a batch is applied. */
export interface BatchOptions {
  /**
   * Whether a gap (an event whose predecessors were not applied) may be filled
   * by reading the writer (the queue's delivery), or leaves those events to
   * the queue (`false`: the writer's inline pass must not call itself).
   */
  fillGaps: boolean;
  /**
   * In a writer's inline pass: the writer's own state of its stream after
   * these events, by stream. A state projection of the same aggregate stores
   * it as it is, with no read and no replay (the state at a version is the
   * same whoever computed it).
   */
  writerStates?: ReadonlyMap<string, { version: number; state: unknown }>;
  /**
   * A rebuild (`events replay --rebuild`): the events may be recorded already and are applied
   * again. Otherwise the kernel commits the writes only with marks that claim the events, so
   * two paths applying one event at once (a replay and the queue) commit it once.
   */
  reapply?: boolean;
}

/** What a batch handler did. */
export interface BatchOutcome {
  /** D1 writes (drizzle queries) committed in one transaction with the ledger marks. */
  writes: readonly BatchItem<"sqlite">[];
  /** Ids of events it left unapplied (a gap it may not fill): not marked, so the queue applies them. */
  deferred?: readonly string[];
}
