// Log lines carry the active span's trace_id and span_id when tracing is on and its trace is kept.
import { SELF } from "cloudflare:test";
import { context, ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/kernel/log";

describe("log lines in a trace", () => {
  it("add trace_id and span_id from the active span of a kept trace, and nothing otherwise", async () => {
    // The first traced request registers the library's context manager in this isolate.
    await (await SELF.fetch("http://plinth.test/healthz")).arrayBuffer();
    const lines: string[] = [];
    const log = createLogger("info", { component: "test" }, (_level, line) => lines.push(line));
    const span = {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: TraceFlags.SAMPLED,
    };
    context.with(trace.setSpanContext(ROOT_CONTEXT, span), () => log.info("inside"));
    log.info("outside");
    // A trace the sampler dropped: its ids would lead nowhere.
    const dropped = { ...span, traceFlags: TraceFlags.NONE };
    context.with(trace.setSpanContext(ROOT_CONTEXT, dropped), () => log.info("dropped"));
    const [inside, outside, unkept] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(inside).toMatchObject({ msg: "inside", trace_id: span.traceId, span_id: span.spanId, component: "test" });
    for (const line of [outside, unkept]) {
      expect(line?.msg).toBeDefined();
      expect(line?.trace_id).toBeUndefined();
      expect(line?.span_id).toBeUndefined();
    }
  });
});
