import type { Context } from "hono";
import type { AppEnv } from "../env";
import { errorFields } from "../log";

/**
 * Runs work after the response without losing it: `waitUntil` when the
 * runtime gives an execution context, else (in-process tests) just awaited
 * by nobody. Failures are logged, never thrown at the client.
 */
export function background(c: Context<AppEnv>, work: Promise<unknown>): void {
  const guarded = work.catch((error: unknown) => c.get("log").warn("background work failed", errorFields(error)));
  try {
    c.executionCtx.waitUntil(guarded);
  } catch {
    // No execution context (app.request in tests): the promise still runs.
  }
}
