import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { testBindings } from "./vitest.bindings";

// Runtime tests run inside workerd with the bindings of wrangler.toml, plus testBindings().
// The entry is the deployed Worker plus test-only Durable Objects (test/worker.ts).
export default defineConfig(async () => {
  return {
    plugins: [
      cloudflareTest({
        main: "./test/worker.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: await testBindings(),
          // The actor base's probe (test/actors/probe-actor.ts): no wrangler.toml entry, never deployed.
          durableObjects: { PROBE_ACTOR: { className: "ProbeActor", useSQLite: true } },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup.ts"],
      maxWorkers: 2,
      // Two cores shared by two test workers and workerd: HTTP flows that take 3 s alone
      // can take well over vitest's default 5 s when the machine is busy.
      testTimeout: 30_000,
      projects: [
        {
          extends: true as const,
          test: {
            name: "workerd",
            include: ["test/**/*.test.ts"],
            // test/otel runs with tracing on (vitest.otel.config.ts): tracing is decided once per isolate.
            exclude: ["test/node/**", "test/otel/**", "test/wasm/**"],
            // One workerd per test worker for all the files it runs, not one per file: starting
            // workerd and importing the Worker cost ~10 s a file, two thirds of the suite's time.
            // Storage (D1, Durable Objects, R2) and module state are therefore shared by the
            // files a worker runs, in an order that changes: a test makes what it reads (fresh
            // tenants, unique names), never counts what it did not make, and sets the clock and
            // limits it needs through testApp (docs/modules.md, "Tests").
            isolate: false,
          },
        },
        {
          extends: true as const,
          test: {
            // The WebAssembly core's suite creates thousands of instances and grows their memories
            // to the largest inputs; after a long shared run, workerd once crashed (SIGSEGV) in it.
            // It gets a workerd of its own.
            name: "workerd-wasm",
            include: ["test/wasm/**/*.test.ts"],
          },
        },
      ],
    },
  };
});
