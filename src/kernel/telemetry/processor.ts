/**
 * The isolate's span processor: the library's BatchTraceSpanProcessor (spans
 * exported per trace, when the last open span ends or on a forced flush), run
 * once per local root, dropped once it has been exported, and flushed only by
 * the invocation that started it.
 */
import { BatchTraceSpanProcessor, type TraceFlushableSpanProcessor } from "@microlabs/otel-cf-workers";
import { type Context, context, trace } from "@opentelemetry/api";
import { createLogger, errorFields, type Logger } from "../log";
import type { RedactingExporter } from "./exporter";

type OnStart = TraceFlushableSpanProcessor["onStart"];
type OnEnd = TraceFlushableSpanProcessor["onEnd"];

/** What the processor uses of a trace's own batch processor (the library's BatchTraceSpanProcessor). */
export type TraceBatch = Pick<BatchTraceSpanProcessor, "onStart" | "onEnd" | "forceFlush">;

/** Options of a {@link PruningSpanProcessor}. */
export interface PruningOptions {
  /** Builds a new entry's own batch processor; the library's, exporting to the exporter, by default. */
  batch?: () => TraceBatch;
  /** Where a flush that failed is reported; a JSON line on stderr by default. */
  log?: Pick<Logger, "warn">;
  /** The context a span starts or a flush runs in: the active one by default (tests hand in their own). */
  active?: () => Context;
}

/** One invocation (a request, a queue batch, an object's RPC call): only identity matters. */
type Invocation = object;

interface Held {
  trace: string;
  /** A processor for this entry alone, so that dropping it frees all it holds. */
  batch: TraceBatch;
  /** The invocation whose flushes export and await this entry; no other one's do. */
  owner: Invocation;
  /** Spans started and not yet ended. */
  open: number;
  /** The count of entries started when `open` last fell to 0 (see sweep). */
  idleSince?: number;
}

/** Every this many new entries, forget those idle for as many (see sweep). */
const SWEEP_EVERY = 64;

/**
 * Two fixes over the library's processor.
 *
 * Unbounded memory growth: BatchTraceSpanProcessor keeps one TraceState (with
 * the trace's local root span) per trace id for the isolate's life, never
 * deleting it (@microlabs/otel-cf-workers 1.0.0-rc.52; +200 entries after 200
 * requests). Here each entry gets its own BatchTraceSpanProcessor, forgotten
 * when its spans have all ended and their export settled. A span whose local
 * parent's entry is already forgotten starts a new entry, exported on its own.
 *
 * Flushes across contexts: a TraceState holds every export promise of its
 * trace, and its flush awaits them all and ends every open span. One per
 * trace id, shared by the whole isolate, made the end of one invocation await
 * exports another started (an object's RPC call or a queue message served in
 * the same isolate shares the request's trace id) and end that one's spans
 * early. workerd ties a promise to the context that made it: awaiting one of a
 * context since torn down waits until the `waitUntil` limit. So an entry is a
 * local root (a span with no parent, or a carried one) and its children; it
 * belongs to the invocation its root started in (the one whose span is
 * active then: a queue message's span belongs to the batch), and a flush
 * exports and awaits only the entries of the invocation it runs in.
 */
export class PruningSpanProcessor implements TraceFlushableSpanProcessor {
  private readonly entries = new Set<Held>();
  /** Each span this processor saw, to its entry: a child joins its parent's, a flush finds its invocation. */
  private readonly entryOf = new WeakMap<object, Held>();
  /** Entries started in this isolate: a clock that needs no time. */
  private started = 0;

  private readonly newBatch: () => TraceBatch;
  private readonly log: Pick<Logger, "warn">;
  private readonly active: () => Context;

  constructor(exporter: RedactingExporter, options: PruningOptions = {}) {
    this.newBatch = options.batch ?? (() => new BatchTraceSpanProcessor(exporter));
    this.log = options.log ?? createLogger("warn", { component: "telemetry" });
    this.active = options.active ?? (() => context.active());
  }

  /** Entries held in memory (for the memory test and debugging). */
  get held(): number {
    return this.entries.size;
  }

  /** Entries this isolate has started recording (for the sampling test and debugging). */
  get recorded(): number {
    return this.started;
  }

  /** The entry of the span active in `ctx` (undefined when none, or one this processor never saw). */
  private entryIn(ctx: Context): Held | undefined {
    const span = trace.getSpan(ctx);
    return span && this.entryOf.get(span);
  }

  onStart(span: Parameters<OnStart>[0], parent: Parameters<OnStart>[1]): void {
    // A carried parent is a span of another invocation (not one this processor saw): a new entry.
    const parentEntry = this.entryIn(parent);
    let held = parentEntry && this.entries.has(parentEntry) ? parentEntry : undefined;
    if (!held) {
      const owner = parentEntry?.owner ?? this.entryIn(this.active())?.owner ?? {};
      held = { trace: span.spanContext().traceId, batch: this.newBatch(), owner, open: 0 };
      this.entries.add(held);
      if (++this.started % SWEEP_EVERY === 0) this.sweep();
    }
    this.entryOf.set(span, held);
    held.open++;
    held.idleSince = undefined;
    held.batch.onStart(span, parent);
  }

  onEnd(span: Parameters<OnEnd>[0]): void {
    const held = this.entryOf.get(span);
    if (!held || !this.entries.has(held)) return;
    // The entry's last open span: the batch processor starts exporting its spans now.
    held.batch.onEnd(span);
    if (--held.open > 0) return;
    held.idleSince = this.started;
    // Forget the entry once that export settled, unless a new span of it started meanwhile.
    // Until then a forced flush (the library's waitUntil at the end of an invocation) still finds and awaits it.
    // A flush that rejects (the library awaits its exports settled, but its sampling and
    // bookkeeping can throw) loses only this entry's spans: it is reported here rather than
    // left an unhandled rejection in the request that ended the span, and forgotten all the same.
    void held.batch
      .forceFlush(held.trace)
      .catch((error: unknown) => this.log.warn("trace flush failed", { trace_id: held.trace, ...errorFields(error) }))
      .finally(() => {
        if (held.open === 0) this.entries.delete(held);
      });
  }

  /**
   * Forgets the entries idle (no open span) since SWEEP_EVERY entries ago whose
   * clean-up above never ran: in a Durable Object the export starts inside an
   * RPC call that may be over when it settles, and workerd then cancels the
   * continuation ("A promise was resolved or rejected from a different request
   * context", seen a few times per thousand requests in the bench).
   */
  private sweep(): void {
    for (const held of this.entries) {
      if (held.open === 0 && held.idleSince !== undefined && this.started - held.idleSince >= SWEEP_EVERY) {
        this.entries.delete(held);
      }
    }
  }

  /**
   * Exports and awaits the spans of `traceId` (of every trace without one) that
   * the calling invocation recorded, ending those still open. Another
   * invocation's are left to it; a caller in no span this processor saw
   * flushes nothing, as whatever it would find is another context's.
   */
  async forceFlush(traceId?: string): Promise<void> {
    const caller = this.entryIn(this.active())?.owner;
    if (!caller) return;
    const targets = [...this.entries].filter((h) => h.owner === caller && (!traceId || h.trace === traceId));
    // The library's own forceFlush() without a trace id flushes nothing (it maps to `state.flush`, uncalled); name each.
    await Promise.allSettled(targets.map((h) => h.batch.forceFlush(h.trace)));
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }
}
