import { defineConfig } from "vitest/config";

// Tests of what runs in Node: the CLI and scripts, and checks of generated
// artefacts (the OpenAPI document) with Node-only tooling.
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    // Two files at a time (vitest's default on two cores is one): most of these wait on a
    // workerd or a CLI they started, so the pair overlaps (~250 s -> ~180 s here).
    maxWorkers: 2,
    // The machine has two cores; a busy one stretches the multi-second sweeps.
    testTimeout: 30_000,
  },
});
