import { createServer } from "node:http";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { pinnedDurableObjects, testBindings, testWranglerConfig, useTestWorkerdAutogates } from "./vitest.bindings";
import { ignoreLostConsoleLine } from "./vitest.unhandled";

/**
 * An in-process OTLP/HTTP (JSON) receiver: POST /v1/traces stores each export
 * request's body; GET /spans answers them all; DELETE /spans forgets them.
 * The Worker exports to it over real HTTP (Miniflare lets workerd reach
 * 127.0.0.1), so the test covers the exporter as production runs it.
 */
async function otlpReceiver(): Promise<string> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } else if (req.method === "GET" && req.url === "/spans") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(bodies));
      } else if (req.method === "DELETE" && req.url === "/spans") {
        bodies.length = 0;
        res.writeHead(204).end();
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

// The workerd suite with tracing on, exporting to the receiver: only test/otel/**.
export default defineConfig(async () => {
  useTestWorkerdAutogates();
  const receiver = await otlpReceiver();
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: testWranglerConfig() },
        miniflare: {
          bindings: {
            ...(await testBindings()),
            OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver}/v1/traces`,
            OTEL_EXPORTER_OTLP_HEADERS: "x-test-key=not-a-secret",
            OTLP_RECEIVER: receiver,
          },
          durableObjects: await pinnedDurableObjects("./wrangler.toml"),
        },
      }),
    ],
    test: {
      include: ["test/otel/**/*.test.ts"],
      setupFiles: ["./test/setup.ts"],
      onUnhandledError: ignoreLostConsoleLine,
      maxWorkers: 1,
      // One workerd for the four files (as in vitest.config.ts, with objects pinned for the same reason).
      isolate: false,
      testTimeout: 30_000,
    },
  };
});
