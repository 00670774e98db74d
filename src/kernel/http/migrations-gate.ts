import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { appliedMigrations } from "../health/checks";
import { errorFields } from "../log";
import { loggerOf } from "./init";

/** How long a look that found migrations pending stands before the next request looks again. */
export const PENDING_RECHECK_MS = 5_000;

/**
 * Refuses API reads (GET, HEAD) with `503 unavailable` and `Retry-After` while D1 lacks a
 * migration this build ships. A missing table already fails so on its own (kernel/errors,
 * `missingTable`), but a missing column does not: drizzle double-quotes column names, and
 * SQLite reads a double-quoted name it cannot resolve as a string literal, so
 * `select "amount_cents" from orders` answers the text `amount_cents` for every row.
 *
 * One look at `d1_migrations` per isolate: once nothing is pending it never looks again
 * (migrations are only ever added); while something is, at most every
 * {@link PENDING_RECHECK_MS}. Migrations applied but not shipped (the deploy order,
 * migrations before code) are no reason to refuse. Writes pass: a command commits to its
 * Durable Object, and its projection is retried by the queue. A look that fails lets the
 * request through, which meets the same database on its own.
 */
export function migrationsGate(expected: readonly string[]): MiddlewareHandler<AppEnv> {
  let settled = expected.length === 0;
  let lookedAt = Number.NEGATIVE_INFINITY;
  let pending: string[] = [];
  return async (c, next) => {
    if (settled || (c.req.method !== "GET" && c.req.method !== "HEAD")) return next();
    const now = c.get("clock").now().getTime();
    if (now - lookedAt >= PENDING_RECHECK_MS) {
      try {
        const applied = new Set((await appliedMigrations(c.env.DB)) ?? []);
        pending = expected.filter((name) => !applied.has(name));
      } catch (error) {
        loggerOf(c).warn("migrations gate: d1_migrations unreadable; serving", errorFields(error));
        return next();
      }
      lookedAt = now;
      if (pending.length === 0) {
        settled = true;
        return next();
      }
      // Said to the operator (at most once per look), not the client: the fix is theirs.
      loggerOf(c).error("migrations pending: API reads refused until they are applied", {
        pending,
        hint: "apply them: npx plinth db migrate (--remote for a deployed database)",
      });
    }
    throw new AppError("unavailable", {
      detail: "the service's database is being brought up to date; try again shortly",
      headers: { "Retry-After": String(PENDING_RECHECK_MS / 1000) },
    });
  };
}
