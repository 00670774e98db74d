import type { Context } from "hono";
import type { AppEnv } from "../env";
import { loggedWaitUntil } from "../modules/wait-until";

/**
 * Runs work after the response without losing it: `waitUntil` when the
 * runtime gives an execution context, else (in-process tests) just awaited
 * by nobody. Failures are logged, never thrown at the client.
 */
export function background(c: Context<AppEnv>, work: Promise<unknown>): void {
  let waitUntil: (p: Promise<unknown>) => void;
  try {
    const ctx = c.executionCtx;
    waitUntil = (p) => ctx.waitUntil(p);
  } catch {
    // No execution context (app.request in tests): the promise still runs, its failure still logged.
    waitUntil = () => {};
  }
  loggedWaitUntil(waitUntil, c.get("log"))(work);
}
