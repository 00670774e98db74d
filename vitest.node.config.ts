import { defineConfig } from "vitest/config";

// Tests of what runs in Node: the CLI and scripts, and checks of generated
// artefacts (the OpenAPI document) with Node-only tooling.
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    // The machine has two cores; a busy one stretches the multi-second sweeps.
    testTimeout: 30_000,
  },
});
