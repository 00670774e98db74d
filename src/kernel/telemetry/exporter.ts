/**
 * The isolate's one OTLP/HTTP (JSON) exporter, redacting query strings and exception
 * messages, and sending nothing for a trace the sampler dropped.
 */
import { OTLPExporter } from "@microlabs/otel-cf-workers";
import { SpanKind } from "@opentelemetry/api";
import { ExportResultCode } from "@opentelemetry/core";
import type { TracingConfig } from "../config/tracing";

type ExportCallback = Parameters<OTLPExporter["export"]>[1];

/** What the exporter reads and changes of a span: its kind, attributes and events. */
interface ExportedSpan {
  kind?: SpanKind;
  attributes: Record<string, unknown>;
  events?: { name: string; attributes?: Record<string, unknown> }[];
}

/** What the redacting exporter hands the spans it keeps to (the library's OTLP exporter). */
export type SpanSink = Pick<OTLPExporter, "export" | "shutdown">;

/**
 * Drops query strings from what the library records: its fetch span sets
 * `url.full` and `url.query` from the request URL, and the `postProcessor`
 * option meant for this is parsed but never called (@microlabs/otel-cf-workers
 * 1.0.0-rc.52). Queries may carry tokens (`?token=`), so they never leave.
 * An outgoing request's span (kind CLIENT) keeps only the target's origin:
 * its path is a tenant's webhook URL, which often carries the receiver's
 * token in the path (`/services/T0/B0/<secret>`), and which events and logs
 * name by host only. An exception the library records (its `recordException` on a D1 call, an
 * outgoing fetch or a handler that threw) keeps its `exception.type` only: its message and
 * stack may quote what the error met (a bound value, a body), and plinth's own spans record
 * the type alone for that reason (./index.ts `fail`).
 */
export class RedactingExporter {
  constructor(private readonly otlp: SpanSink) {}

  export(spans: ExportedSpan[], done: ExportCallback): void {
    // A trace the head sampler dropped still reaches the exporter, with no spans: the library's
    // per-trace flush exports whatever its tail sampler kept, even nothing (rc.52). Posted, that
    // is an outgoing request per request at any ratio, so 0.01 would cost as much as 1.0.
    if (spans.length === 0) {
      done({ code: ExportResultCode.SUCCESS });
      return;
    }
    for (const { kind, attributes, events } of spans) {
      const full = attributes["url.full"];
      if (typeof full === "string")
        attributes["url.full"] = kind === SpanKind.CLIENT ? originOf(full) : full.split("?")[0];
      if (kind === SpanKind.CLIENT) delete attributes["url.path"];
      delete attributes["url.query"];
      for (const event of events ?? []) {
        if (event.name !== "exception" || !event.attributes) continue;
        delete event.attributes["exception.message"];
        delete event.attributes["exception.stacktrace"];
      }
    }
    this.otlp.export(spans, done);
  }

  shutdown(): Promise<void> {
    return this.otlp.shutdown();
  }
}

/** The scheme, host and port of a URL, nothing after them ("" when it does not parse). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "";
  }
}

let exporter: RedactingExporter | undefined;

/**
 * One per isolate: the library calls its config function on every invocation
 * but registers the provider once, with the first call's exporter; later ones
 * would be built and ignored (otel-cf-workers issue #187, still so in rc.52).
 */
export function isolateExporter(config: TracingConfig): RedactingExporter {
  exporter ??= new RedactingExporter(new OTLPExporter({ url: config.endpoint, headers: config.headers }));
  return exporter;
}
