import { randomBytes } from "node:crypto";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { newSigningKeySet } from "./scripts/jwt-keys.mjs";
import { unlimitedPolicies } from "./src/kernel/ratelimit/policies";

// Runtime tests run inside workerd with the bindings of wrangler.toml.
// D1 migrations are read here (Node side) and applied by test/setup.ts.
export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            ENVIRONMENT: "test",
            LOG_LEVEL: "warn",
            GIT_COMMIT: "test-commit",
            // Fresh secrets for every run: tests never depend on a fixed key.
            PLATFORM_ROOT_KEY: randomBytes(32).toString("base64url"),
            JWT_SIGNING_KEYS: newSigningKeySet(),
            TEST_MIGRATIONS: migrations,
            // The suite sends thousands of requests from one principal and one (unknown) address:
            // limits it never meets. Rate-limit tests set their own through testApp.
            RATE_LIMITS: JSON.stringify(unlimitedPolicies()),
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      // test/otel runs with tracing on (vitest.otel.config.ts): tracing is decided once per isolate.
      exclude: ["test/node/**", "test/otel/**"],
      setupFiles: ["./test/setup.ts"],
      maxWorkers: 2,
      // Two cores shared by two test workers and workerd: HTTP flows that take 3 s alone
      // can take well over vitest's default 5 s when the machine is busy.
      testTimeout: 30_000,
    },
  };
});
