import { AppError } from "../errors";

/**
 * The 503 for a read of a missing table. With a migration pending it heals once that is applied:
 * try again (Retry-After). With none pending it will not heal by waiting: the table was renamed
 * or dropped under recorded migrations, and the answer says so, so no one waits for a rollout.
 */
export function missingTableError(table: string, pending: readonly string[] | null, cause: unknown): AppError {
  if (pending !== null && pending.length === 0) {
    const detail = `table ${table} is missing although every migration is applied: an operator must restore it (docs/operations.md, "Health")`;
    return new AppError("unavailable", { detail, cause });
  }
  const detail = `the service's database is being brought up to date (table ${table} is not there yet); try again shortly`;
  return new AppError("unavailable", { detail, headers: { "Retry-After": "30" }, cause });
}
