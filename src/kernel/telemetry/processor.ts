/**
 * The isolate's span processor: the library's BatchTraceSpanProcessor (spans
 * exported per trace, when the trace's last open span ends or on a forced
 * flush), with the per-trace state dropped once it has been exported.
 */
import { BatchTraceSpanProcessor, type TraceFlushableSpanProcessor } from "@microlabs/otel-cf-workers";
import { createLogger, errorFields, type Logger } from "../log";
import type { RedactingExporter } from "./exporter";

type OnStart = TraceFlushableSpanProcessor["onStart"];
type OnEnd = TraceFlushableSpanProcessor["onEnd"];

/** What the processor uses of a trace's own batch processor (the library's BatchTraceSpanProcessor). */
export type TraceBatch = Pick<BatchTraceSpanProcessor, "onStart" | "onEnd" | "forceFlush">;

/** Options of a {@link PruningSpanProcessor}. */
export interface PruningOptions {
  /** Builds a new trace's own batch processor; the library's, exporting to the exporter, by default. */
  batch?: () => TraceBatch;
  /** Where a flush that failed is reported; a JSON line on stderr by default. */
  log?: Pick<Logger, "warn">;
}

interface Held {
  /** A processor for this trace alone, so that dropping it frees all it holds. */
  batch: TraceBatch;
  /** Spans started and not yet ended. */
  open: number;
  /** The trace count when `open` last fell to 0 (see sweep). */
  idleSince?: number;
}

/** Every this many new traces, forget those idle for as many (see sweep). */
const SWEEP_EVERY = 64;

/**
 * Fix for unbounded memory growth: BatchTraceSpanProcessor keeps one
 * TraceState (with the trace's local root span) per trace id for the isolate's
 * life, never deleting it (@microlabs/otel-cf-workers 1.0.0-rc.52; +200
 * entries after 200 requests). A long-lived isolate, or a Durable Object that
 * stays up, grows with every trace. Here each trace gets its own
 * BatchTraceSpanProcessor, forgotten when its spans have all ended and their
 * export settled. A span of the same trace that starts later (a queue message
 * in the request's trace) starts a new entry and is exported on its own.
 */
export class PruningSpanProcessor implements TraceFlushableSpanProcessor {
  private readonly traces = new Map<string, Held>();
  /** Traces started in this isolate: a clock that needs no time. */
  private started = 0;

  private readonly newBatch: () => TraceBatch;
  private readonly log: Pick<Logger, "warn">;

  constructor(exporter: RedactingExporter, options: PruningOptions = {}) {
    this.newBatch = options.batch ?? (() => new BatchTraceSpanProcessor(exporter));
    this.log = options.log ?? createLogger("warn", { component: "telemetry" });
  }

  /** Traces held in memory (for the memory test and debugging). */
  get held(): number {
    return this.traces.size;
  }

  /** Traces this isolate has started recording (for the sampling test and debugging). */
  get recorded(): number {
    return this.started;
  }

  onStart(span: Parameters<OnStart>[0], parent: Parameters<OnStart>[1]): void {
    const id = span.spanContext().traceId;
    let held = this.traces.get(id);
    if (!held) {
      held = { batch: this.newBatch(), open: 0 };
      this.traces.set(id, held);
      if (++this.started % SWEEP_EVERY === 0) this.sweep();
    }
    held.open++;
    held.idleSince = undefined;
    held.batch.onStart(span, parent);
  }

  onEnd(span: Parameters<OnEnd>[0]): void {
    const id = span.spanContext().traceId;
    const held = this.traces.get(id);
    if (!held) return;
    // The trace's last open span: the batch processor starts exporting its spans now.
    held.batch.onEnd(span);
    if (--held.open > 0) return;
    held.idleSince = this.started;
    // Forget the trace once that export settled, unless a new span of it started meanwhile.
    // Until then a forced flush (the library's waitUntil at the end of an invocation) still finds and awaits it.
    // A flush that rejects (the library awaits its exports settled, but its sampling and
    // bookkeeping can throw) loses only this trace's spans: it is reported here rather than
    // left an unhandled rejection in the request that ended the span, and forgotten all the same.
    void held.batch
      .forceFlush(id)
      .catch((error: unknown) => this.log.warn("trace flush failed", { trace_id: id, ...errorFields(error) }))
      .finally(() => {
        if (held.open === 0 && this.traces.get(id) === held) this.traces.delete(id);
      });
  }

  /**
   * Forgets the traces idle (no open span) since SWEEP_EVERY traces ago whose
   * clean-up above never ran: in a Durable Object the export starts inside an
   * RPC call that may be over when it settles, and workerd then cancels the
   * continuation ("A promise was resolved or rejected from a different request
   * context", seen a few times per thousand requests in the bench).
   */
  private sweep(): void {
    for (const [id, held] of this.traces) {
      if (held.open === 0 && held.idleSince !== undefined && this.started - held.idleSince >= SWEEP_EVERY) {
        this.traces.delete(id);
      }
    }
  }

  async forceFlush(traceId?: string): Promise<void> {
    // The library's own forceFlush() without a trace id flushes nothing (it maps to `state.flush`, uncalled); name each.
    const targets = traceId ? [[traceId, this.traces.get(traceId)] as const] : [...this.traces];
    await Promise.allSettled(targets.map(([id, held]) => held?.batch.forceFlush(id)));
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }
}
