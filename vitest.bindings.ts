import { randomBytes } from "node:crypto";
import { readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { newSigningKeySet } from "./scripts/jwt-keys.mjs";
import { policiesOff } from "./src/kernel/ratelimit/policies";

/**
 * The bindings every workerd test suite runs with, on top of wrangler.toml's
 * (vitest.config.ts, and vitest.otel.config.ts with tracing on). D1
 * migrations are read here (Node side) and applied by test/setup.ts.
 */
export async function testBindings(): Promise<Record<string, unknown>> {
  return {
    ENVIRONMENT: "test",
    LOG_LEVEL: "warn",
    GIT_COMMIT: "test-commit",
    // Fresh secrets for every run: tests never depend on a fixed key.
    PLATFORM_ROOT_KEY: randomBytes(32).toString("base64url"),
    JWT_SIGNING_KEYS: newSigningKeySet(),
    // Envelope encryption's master key (webhook signing secrets are sealed with it).
    ENCRYPTION_KEYS: JSON.stringify([{ version: 1, key: randomBytes(32).toString("base64url") }]),
    TEST_MIGRATIONS: await readD1Migrations("./migrations"),
    // The suite sends thousands of requests from one principal and one (unknown) address:
    // every policy off (no limiter state shared between tests). Rate-limit tests name their own through testApp.
    RATE_LIMITS: JSON.stringify(policiesOff()),
  };
}
