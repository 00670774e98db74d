/**
 * Versioned schema migrations for a Durable Object's SQLite storage. Each
 * entry is one version's statements; versions run once, in order, inside one
 * transaction each, and the reached version is recorded in `_schema`.
 *
 * Call from the constructor inside `blockConcurrencyWhile`, so no request
 * sees a half-migrated object.
 *
 * @example
 * ctx.blockConcurrencyWhile(async () => migrateSqlite(ctx.storage, DIRECTORY_SCHEMA));
 *
 * `track` names the table that records the version, so two independent
 * schemas can share one object (a base class's tables and its subclass's)
 * without one's new version shifting the other's numbering.
 */
export function migrateSqlite(storage: DurableObjectStorage, versions: readonly string[][], track = "_schema"): number {
  if (!/^_[a-z_]+$/.test(track)) throw new Error(`invalid schema track name "${track}"`);
  const sql = storage.sql;
  sql.exec(`create table if not exists ${track} (version integer not null)`);
  const row = sql.exec<{ version: number }>(`select max(version) as version from ${track}`).one();
  let current = row.version ?? 0;
  while (current < versions.length) {
    const statements = versions[current] ?? [];
    const next = current + 1;
    storage.transactionSync(() => {
      for (const statement of statements) sql.exec(statement);
      sql.exec(`insert into ${track} (version) values (?)`, next);
    });
    current = next;
  }
  return current;
}
