import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Idempotent: applies what is not yet applied in this test file's storage.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
