import { SpanKind } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { RedactingExporter, type SpanSink } from "../../src/kernel/telemetry/exporter";

type Span = { kind?: SpanKind; attributes: Record<string, unknown> };

/** Exports `spans` through a RedactingExporter and answers what reached the collector's side. */
function exported(spans: Span[]): Span[] {
  const sent: Span[] = [];
  const sink: SpanSink = {
    export: (batch, done) => {
      for (const span of batch) sent.push({ kind: span.kind, attributes: { ...span.attributes } });
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
  new RedactingExporter(sink).export(spans, () => {});
  return sent;
}

describe("RedactingExporter", () => {
  it("keeps only the origin of an outgoing request: a webhook URL's path carries the receiver's token", () => {
    const [span] = exported([
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "url.full": "https://hooks.example.com/services/T0/B0/s3cr3t-token?x=1",
          "url.path": "/services/T0/B0/s3cr3t-token",
          "url.query": "?x=1",
          "server.address": "hooks.example.com",
        },
      },
    ]);
    expect(span?.attributes).toEqual({
      "url.full": "https://hooks.example.com",
      "server.address": "hooks.example.com",
    });
  });

  it("keeps an incoming request's path (a route of plinth's own) but never its query", () => {
    const [span] = exported([
      {
        kind: SpanKind.SERVER,
        attributes: {
          "url.full": "https://acme.example.com/api/v1/files/01ABC/download?sig=abc",
          "url.path": "/api/v1/files/01ABC/download",
          "url.query": "?sig=abc",
        },
      },
    ]);
    expect(span?.attributes).toEqual({
      "url.full": "https://acme.example.com/api/v1/files/01ABC/download",
      "url.path": "/api/v1/files/01ABC/download",
    });
  });
});

describe("RedactingExporter and the exceptions the library records", () => {
  it("keeps an exception's type but never its message or stack, which may quote a key or a body", () => {
    // What @microlabs/otel-cf-workers' recordException adds on a D1 call, an outgoing fetch or a
    // handler that threw (rc.52): the message and the stack, with whatever the error quoted.
    const key = "plk_live_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
    const sent: { events?: { name: string; attributes?: Record<string, unknown> }[] }[] = [];
    const sink: SpanSink = {
      export: (batch, done) => {
        sent.push(...structuredClone(batch));
        done({ code: 0 });
      },
      shutdown: async () => {},
    };
    new RedactingExporter(sink).export(
      [
        {
          kind: SpanKind.CLIENT,
          attributes: {},
          events: [
            {
              name: "exception",
              attributes: {
                "exception.type": "TypeError",
                "exception.message": `D1_TYPE_ERROR: Type 'object' not supported for value '${key}'`,
                "exception.stacktrace": `TypeError: D1_TYPE_ERROR: … '${key}'\n    at run (index.js:1:1)`,
              },
            },
            { name: "other", attributes: { "plinth.count": 1 } },
          ],
        },
      ],
      () => {},
    );
    expect(JSON.stringify(sent)).not.toContain(key);
    expect(sent[0]?.events).toEqual([
      { name: "exception", attributes: { "exception.type": "TypeError" } },
      { name: "other", attributes: { "plinth.count": 1 } },
    ]);
  });
});
