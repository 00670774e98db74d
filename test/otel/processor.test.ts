// The pruning span processor on its own: spans from a plain tracer provider, each entry's batch
// processor a stand-in (so a flush can be made to fail) or the library's, exporting to a sink the
// test answers (or never answers).
import { type Context, ROOT_CONTEXT, type Span, trace } from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { RedactingExporter, type SpanSink } from "../../src/kernel/telemetry/exporter";
import { PruningSpanProcessor, type TraceBatch } from "../../src/kernel/telemetry/processor";

const exporter = new RedactingExporter({ export: () => {}, shutdown: async () => {} });

/** A trace's batch processor whose flush rejects, recording the traces it was asked to flush. */
function rejectingBatch(flushed: string[]): TraceBatch {
  return {
    onStart: () => {},
    onEnd: () => {},
    forceFlush: async (traceId) => {
      flushed.push(traceId ?? "");
      throw new Error("export blew up");
    },
  };
}

describe("PruningSpanProcessor", () => {
  const listeners: ((event: PromiseRejectionEvent) => void)[] = [];
  afterEach(() => {
    for (const listener of listeners.splice(0)) removeEventListener("unhandledrejection", listener);
  });

  it("a trace whose flush rejects is still forgotten, and the rejection is not left unhandled", async () => {
    const unhandled: unknown[] = [];
    const listener = (event: PromiseRejectionEvent) => {
      unhandled.push(event.reason);
    };
    listeners.push(listener);
    addEventListener("unhandledrejection", listener);

    const flushed: string[] = [];
    const warned: { msg: string; fields: unknown }[] = [];
    const processor = new PruningSpanProcessor(exporter, {
      batch: () => rejectingBatch(flushed),
      log: { warn: (msg, fields) => warned.push({ msg, fields }) },
    });
    const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer("test");
    const span = tracer.startSpan("root");
    expect(processor.held).toBe(1);
    span.end();

    // Long enough for the rejection to settle and for workerd to report it, had it been left unhandled.
    await new Promise((r) => setTimeout(r, 50));
    expect(flushed).toEqual([span.spanContext().traceId]);
    expect(processor.held).toBe(0);
    expect(unhandled).toEqual([]);
    expect(warned).toEqual([
      {
        msg: "trace flush failed",
        fields: expect.objectContaining({ trace_id: span.spanContext().traceId, error_message: "export blew up" }),
      },
    ]);
  });
});

describe("PruningSpanProcessor: a flush is its own invocation's", () => {
  /**
   * A processor over the library's own per-trace batches, exporting to `sink`, and a tracer
   * feeding it. `at` sets the active context (the invocation a span starts or a flush runs in):
   * workerd's async context, which the library's context manager follows, handed in directly.
   */
  function tracedBy(sink: SpanSink) {
    let active: Context = ROOT_CONTEXT;
    const processor = new PruningSpanProcessor(new RedactingExporter(sink), { active: () => active });
    const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer("test");
    return {
      processor,
      tracer,
      at(span: Span | undefined) {
        active = span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT;
      },
    };
  }

  /** {@link tracedBy} an exporter that records the names of the spans it is given, at once. */
  function recordingTraced() {
    const exported: string[] = [];
    const traced = tracedBy({
      export(spans, done) {
        exported.push(...spans.map((s) => s.name));
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: async () => {},
    });
    return { exported, ...traced };
  }

  /** The context another invocation's span carries across RPC or in an event envelope. */
  const carried = (span: Span) => trace.setSpanContext(ROOT_CONTEXT, { ...span.spanContext(), isRemote: true });

  /** A promise that resolves once every name in `names` has reached an export. */
  function exportedAll(exported: string[], names: string[]) {
    return new Promise<void>((resolve) => {
      const check = () => (names.every((n) => exported.includes(n)) ? resolve() : setTimeout(check, 1));
      check();
    });
  }

  /** Whether `promise` has settled once every pending callback has run (a macrotask later). */
  async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
    let settled = false;
    void promise.finally(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 0));
    return settled;
  }

  it("awaits none of the exports another invocation of the same trace started, even one that never settles", async () => {
    const exported: string[] = [];
    const { processor, tracer, at } = tracedBy({
      export(spans, done) {
        const names = spans.map((s) => s.name);
        exported.push(...names);
        // A's export never settles: its context was torn down mid-request.
        if (!names.includes("a")) done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: async () => {},
    });

    // Invocation A (a request) ends its span; its export starts and hangs.
    const a = tracer.startSpan("a", {}, ROOT_CONTEXT);
    a.end();
    // Invocation B (an object's RPC, or a queue message, in A's trace) runs and flushes the trace.
    at(undefined);
    const b = tracer.startSpan("b", {}, carried(a));
    b.end();
    at(b);
    const flushed = processor.forceFlush(b.spanContext().traceId);
    await exportedAll(exported, ["a", "b"]);
    expect(await settledSoon(flushed)).toBe(true);
  });

  it("neither ends nor exports a span another invocation still has open; that one exports it when it ends", async () => {
    const { exported, processor, tracer, at } = recordingTraced();

    const a = tracer.startSpan("a", {}, ROOT_CONTEXT);
    at(undefined);
    const b = tracer.startSpan("b", {}, carried(a));
    b.end();
    at(b);
    await processor.forceFlush(b.spanContext().traceId);
    expect(exported).toEqual(["b"]);
    expect(a.isRecording()).toBe(true);

    at(a);
    a.end();
    await processor.forceFlush(a.spanContext().traceId);
    expect(exported).toEqual(["b", "a"]);
  });

  it("flushes a span with a carried parent started in its invocation (a queue message), and no other invocation does", async () => {
    const { exported, processor, tracer, at } = recordingTraced();

    // The request that wrote the event, still running; the queue batch's own span (its own trace).
    const request = tracer.startSpan("request", {}, ROOT_CONTEXT);
    const batch = tracer.startSpan("batch", {}, ROOT_CONTEXT);
    at(batch);
    const message = tracer.startSpan("message", {}, carried(request));
    const traceId = message.spanContext().traceId;

    // The request's flush of the trace exports the request's span and leaves the batch's message alone...
    at(request);
    await processor.forceFlush(traceId);
    expect(exported).toEqual(["request"]);
    expect(message.isRecording()).toBe(true);
    // ...and the batch's flush of the message's trace exports it (ending it, still open).
    at(batch);
    await processor.forceFlush(traceId);
    expect(exported).toEqual(["request", "message"]);
  });
});
