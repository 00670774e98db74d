import { AppError } from "../errors";
import { PENDING_RECHECK_MS } from "../health/pending-migrations";

/**
 * The 503 for a read of a missing table. With a migration pending it heals once that is applied:
 * try again (Retry-After). With none pending it will not heal by waiting: the table was renamed
 * or dropped under recorded migrations, and the answer says so, so no one waits for a rollout.
 * The table is named in the log line (edge.ts), never to the client: a schema's names are the
 * operator's business, and the answer may go to anyone who can call a read.
 */
export function missingTableError(pending: readonly string[] | null, cause: unknown): AppError {
  if (pending !== null && pending.length === 0) {
    const detail = "part of the service's database is missing although it is up to date: an operator must restore it";
    return new AppError("unavailable", { detail, cause });
  }
  const detail = "the service's database is being brought up to date; try again shortly";
  // The read gate's pause: a client told to come back is answered from the next look.
  return new AppError("unavailable", { detail, headers: { "Retry-After": String(PENDING_RECHECK_MS / 1000) }, cause });
}
