// Raw SQL on SQLite's own table (sqlite_master), which no drizzle schema describes: the
// readiness check asks it for the tables the applied migrations made.

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
