/**
 * Whether this isolate traces, and the active span's ids for log lines. Kept
 * apart from ./index.ts so that the logger (used everywhere, also in Node
 * tests) depends on @opentelemetry/api only, not on the Workers library.
 */
import { type SpanContext, TraceFlags, trace } from "@opentelemetry/api";

let on = false;

/** Set once per isolate by `tracingFor` (src/kernel/telemetry/index.ts), before the app is built. */
export function setTracing(value: boolean): void {
  on = value;
}

/** Whether this isolate traces. */
export const tracing = (): boolean => on;

/** Whether `span` belongs to a trace the sampler kept (a dropped one is never exported). */
export function inKeptTrace(span: SpanContext | undefined): span is SpanContext {
  return span !== undefined && trace.isSpanContextValid(span) && (span.traceFlags & TraceFlags.SAMPLED) !== 0;
}

/**
 * `trace_id` and `span_id` of the active span, to join a log line to its
 * trace; nothing when tracing is off (one boolean test), no span is active, or
 * its trace is not kept (its ids would name a trace the collector never gets).
 */
export function traceFields(): { trace_id: string; span_id: string } | undefined {
  if (!on) return undefined;
  const span = trace.getActiveSpan()?.spanContext();
  return inKeptTrace(span) ? { trace_id: span.traceId, span_id: span.spanId } : undefined;
}

let flusher: ((traceId: string) => Promise<void>) | undefined;

/** Set by the entry's instrumentation (./instrument.ts): how to export one trace's spans now. */
export function setFlusher(flush: (traceId: string) => Promise<void>): void {
  flusher = flush;
}

/** Exports the spans of `traceId` the calling invocation recorded, held by the isolate's span processor (nothing when off). */
export async function flushTraceNow(traceId: string): Promise<void> {
  // The library's own exportSpans() waits 1 ms first, so that spans ended in the same tick are included.
  await scheduler.wait(1);
  await flusher?.(traceId);
}
