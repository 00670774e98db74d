import { defineConfig } from "vitest/config";

// Tests of what runs in Node: the CLI and scripts, and checks of generated
// artefacts (the OpenAPI document) with Node-only tooling.
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    environment: "node",
  },
});
