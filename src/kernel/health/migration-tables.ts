// Raw SQL on SQLite's and wrangler's own tables (sqlite_master, d1_migrations), which no drizzle
// schema describes: the readiness check and the 503 of a missing table ask them.

/**
 * The tables the applied migrations made, each with the migration that made it, from the
 * generated `MIGRATION_TABLES`: a migration recorded as applied promises its tables are there.
 */
export function tablesOfApplied(
  applied: readonly string[],
  byMigration: Readonly<Record<string, readonly string[]>>,
): { table: string; migration: string }[] {
  return applied.flatMap((migration) => (byMigration[migration] ?? []).map((table) => ({ table, migration })));
}

/**
 * Which of `tables` the database lacks, in one `sqlite_master` query. A table renamed or
 * dropped by hand leaves `d1_migrations` as it was: only the schema itself tells.
 */
export async function absentTables(db: D1Database, tables: readonly string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const { results } = await db.prepare("select name from sqlite_master where type = 'table'").all<{ name: string }>();
  const present = new Set(results.map((r) => r.name));
  return tables.filter((t) => !present.has(t));
}

/** `/readyz`'s words for tables missing although their migrations are applied; null for none. */
export function missingTablesProblem(missing: readonly { table: string; migration: string }[]): string | null {
  if (missing.length === 0) return null;
  const named = missing.map((m) => `${m.table} (${m.migration})`).join(", ");
  return `tables missing although their migrations are applied: ${named}`;
}

/**
 * The shipped migrations D1 has not applied (wrangler's `d1_migrations`), or null when that
 * cannot be told. `plinth db migrate` applies the same list to libSQL when READ_MODEL_URL is
 * set, so D1's record stands for both.
 */
export async function pendingMigrations(db: D1Database, expected: readonly string[]): Promise<string[] | null> {
  try {
    const { results } = await db.prepare("select name from d1_migrations").all<{ name: string }>();
    const applied = new Set(results.map((r) => r.name));
    return expected.filter((name) => !applied.has(name));
  } catch (error) {
    // No d1_migrations at all: nothing applied yet.
    return String(error).includes("no such table") ? [...expected] : null;
  }
}
