// The pruning span processor on its own: spans from a plain tracer provider, each trace's batch
// processor a stand-in, so a flush can be made to fail.
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { RedactingExporter } from "../../src/kernel/telemetry/exporter";
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
