/**
 * A tiny OTLP/HTTP sink for the traced plinth variants: answers every POST with 200 and counts
 * what arrives (export requests, bytes, spans), so the traced scenarios pay a real export over
 * local HTTP without a collector. Started by run.mjs before the Workers, stopped at exit.
 */
import { createServer } from "node:http";

/**
 * @returns {Promise<{ url: string, stats: () => { requests: number, bytes: number, spans: number, unparsed: number }, stop: () => Promise<void> }>}
 */
export async function startOtlpSink() {
  const stats = { requests: 0, bytes: 0, spans: 0, unparsed: 0 };
  const server = createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      stats.requests++;
      stats.bytes += body.length;
      try {
        // OTLP/HTTP JSON, as @microlabs/otel-cf-workers sends it.
        const parsed = JSON.parse(body.toString("utf8"));
        for (const r of parsed.resourceSpans ?? [])
          for (const s of r.scopeSpans ?? []) stats.spans += s.spans?.length ?? 0;
      } catch {
        stats.unparsed++;
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  server.unref();
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("otlp sink: no port");
  return {
    url: `http://127.0.0.1:${address.port}/v1/traces`,
    stats: () => ({ ...stats }),
    stop: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}
