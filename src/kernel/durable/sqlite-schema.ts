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
export function migrateSqlite(
  storage: DurableObjectStorage,
  versions: readonly (readonly SchemaStatement[])[],
  track = "_schema",
): number {
  if (!/^_[a-z_]+$/.test(track)) throw new Error(`invalid schema track name "${track}"`);
  const sql = storage.sql;
  sql.exec(`create table if not exists ${track} (version integer not null)`);
  const row = sql.exec<{ version: number }>(`select max(version) as version from ${track}`).one();
  let current = row.version ?? 0;
  while (current < versions.length) {
    const statements = versions[current] ?? [];
    const next = current + 1;
    storage.transactionSync(() => {
      for (const statement of statements) runSchemaStatement(sql, statement);
      sql.exec(`insert into ${track} (version) values (?)`, next);
    });
    current = next;
  }
  return current;
}

/**
 * A column added only where it is missing: the repair, as a version of its own, of a shipped
 * version that was later edited in place (an object that had recorded it never ran the edit,
 * one made after did). Never the way to add a new column: append a plain `alter table`.
 */
export interface AddColumnIfMissing {
  table: string;
  column: string;
  /** What follows the name in `alter table … add column <column> <definition>`. */
  definition: string;
}

/** One statement of a schema version: SQL, or a column added where missing. */
export type SchemaStatement = string | AddColumnIfMissing;

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * @example
 * [addColumnIfMissing("tenant", "version", "integer not null default 1")]
 */
export function addColumnIfMissing(table: string, column: string, definition: string): AddColumnIfMissing {
  if (!IDENTIFIER.test(table) || !IDENTIFIER.test(column)) throw new Error(`invalid column "${table}.${column}"`);
  return { table, column, definition };
}

/** Runs one schema statement (migrateSqlite's step; tests replaying a version use it too). */
export function runSchemaStatement(sql: SqlStorage, statement: SchemaStatement): void {
  if (typeof statement === "string") {
    sql.exec(statement);
    return;
  }
  const { table, column, definition } = statement;
  const present = sql.exec("select 1 from pragma_table_info(?) where name = ?", table, column).toArray().length > 0;
  if (!present) sql.exec(`alter table ${table} add column ${column} ${definition}`);
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
    private readonly versions: readonly (readonly SchemaStatement[])[],
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
