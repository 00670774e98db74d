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

/**
 * A schema made by an object's first write, not its constructor: an object a read, a refused
 * command or a late call reaches for a name nobody wrote (a made-up post id, a principal whose
 * records all expired) then keeps no storage, which no erasure would reach. `present(false)`
 * answers whether it is there (reads find nothing without it); `present(true)` makes it. Call
 * `forget()` when storage went back without it (a rolled-back first write, `deleteAll()`).
 */
export class LazySchema {
  private made = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly versions: readonly string[][],
  ) {}

  /** Whether the schema is there, migrating it first when `create` (a write is about to happen). */
  present(create: boolean): boolean {
    if (this.made) return true;
    const found =
      this.storage.sql.exec("select 1 from sqlite_master where type = 'table' and name = '_schema'").toArray().length >
      0;
    if (found || create) {
      migrateSqlite(this.storage, this.versions);
      this.made = true;
    }
    return this.made;
  }

  /** Storage no longer holds the schema (a rollback or `deleteAll()` took it): look again next time. */
  forget(): void {
    this.made = false;
  }
}
