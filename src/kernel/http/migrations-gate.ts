import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../errors";
import { type MigrationWatch, PENDING_RECHECK_MS, type PendingLook } from "../health/pending-migrations";
import { errorFields } from "../log";
import { background } from "./background";
import { loggerOf } from "./init";

/**
 * Refuses API reads (GET, HEAD) with `503 unavailable` and `Retry-After` while D1 lacks a
 * migration this build ships (or, with READ_MODEL_URL set, the libSQL read models do). A missing table already fails so on its own (kernel/errors,
 * `missingTable`), but a missing column does not: drizzle double-quotes column names, and
 * SQLite reads a double-quoted name it cannot resolve as a string literal, so
 * `select "amount_cents" from orders` answers the text `amount_cents` for every row.
 *
 * What is pending is `watch`'s (kernel/health/pending-migrations): one look at
 * `d1_migrations` (and libSQL's `__drizzle_migrations`) per isolate once nothing is, at most one every
 * {@link PENDING_RECHECK_MS} while something is, and, once settled, again in the background a
 * minute after the last look (SETTLED_RECHECK_MS); a read that met a missing table looks again
 * (kernel/http/edge), and un-settles the watch, so this refuses reads again, if one is. Writes pass: a command commits to its
 * Durable Object, and its projection waits in the queue for the migration. A look that
 * fails lets the request through, which meets the same database on its own.
 */
export function migrationsGate(watch: MigrationWatch): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return next();
    const now = c.get("clock").now().getTime();
    if (watch.settled()) {
      // Served now; a look a minute old is taken again after the response (SETTLED_RECHECK_MS).
      if (watch.due(now)) background(c, watch.recheck(c.env, now));
      return next();
    }
    let look: PendingLook;
    try {
      look = await watch.look(c.env, now);
    } catch (error) {
      loggerOf(c).warn("migrations gate: applied migrations unreadable; serving", errorFields(error));
      return next();
    }
    if (look.pending.length === 0) return next();
    if (look.fresh) {
      // Said to the operator (at most once per look), not the client: the fix is theirs.
      loggerOf(c).error("migrations pending: API reads refused until they are applied", {
        pending: look.pending,
        hint: "apply them: npx plinth db migrate (--remote for a deployed database)",
      });
    }
    throw new AppError("unavailable", {
      detail: "the service's database is being brought up to date; try again shortly",
      headers: { "Retry-After": String(PENDING_RECHECK_MS / 1000) },
    });
  };
}
