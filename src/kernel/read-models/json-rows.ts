/**
 * Multi-row inserts whose rows travel as one JSON parameter:
 * `insert into t (columns) select json_extract(value, '$[0]'), … from json_each(?) where true <tail>`.
 *
 * Why: drizzle builds a statement a bound parameter at a time (a few µs each), and D1
 * binds at most 100 per statement. A queue batch of 1,250 audit entries, twelve columns
 * each, was 157 statements that took ~50 ms of the consumer's CPU to build (measured in
 * Node); as JSON it is 13 statements of one parameter. SQLite's `json_each` is in D1
 * and in libSQL alike. Values go in as drizzle would bind them (each column's mapping,
 * null as null, a missing column's default), so a row reads back the same either way;
 * `test/read-models/suite.ts` checks that on both databases.
 */
import { getTableColumns, getTableName, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { ReadModelDb } from "./db";

/** Rows per statement, and the JSON text a statement carries at most (≤ ~900 KB in UTF-8; D1 takes 2 MB per value). */
const ROWS_PER_STATEMENT = 100;
const CHARS_PER_STATEMENT = 300_000;

/** What a table's JSON inserts need, made once per table. */
interface TableShape {
  /** The columns an insert writes, in the order drizzle lists them. */
  columns: [string, SQLiteColumn][];
  /** `select json_extract(value, '$[0]'), …` over those columns. */
  select: SQL;
}

const shapes = new WeakMap<SQLiteTable, TableShape | null>();

/** The table's shape, or null when it has generated columns (an insert leaves them out; drizzle knows which). */
function shapeOf(table: SQLiteTable): TableShape | null {
  let shape = shapes.get(table);
  if (shape === undefined) {
    const columns = Object.entries(getTableColumns(table) as Record<string, SQLiteColumn>);
    shape = columns.some(([, column]) => column.generated)
      ? null
      : { columns, select: sql.raw(`select ${columns.map((_, i) => `json_extract(value, '$[${i}]')`).join(", ")}`) };
    shapes.set(table, shape);
  }
  return shape;
}

/** A value JSON carries to SQLite unchanged: text, a finite number, a boolean (stored as 0/1, as bound), null. */
function jsonExact(value: unknown): boolean {
  return (
    value === null ||
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

/** The driver value drizzle would bind for `column` given `given` (undefined: the row leaves it out). */
function driverValue(column: SQLiteColumn, given: unknown): unknown {
  // null is bound as null: a column's mapping never sees it.
  if (given === null) return null;
  if (given !== undefined) return column.mapToDriverValue(given);
  if (column.default !== undefined && column.default !== null) return column.default;
  if (column.defaultFn) return column.defaultFn();
  if (column.onUpdateFn) return column.onUpdateFn();
  return null;
}

/**
 * The statements inserting `rows` (keyed like the table's drizzle columns) into `table`,
 * each followed by `tail` (an `on conflict …` clause, or empty), as JSON; or null when a
 * value has no exact JSON form (a blob, a bigint, a SQL expression, a non-finite number)
 * or the table has generated columns: then bind them the usual way.
 *
 * @example
 * const writes = jsonInsert(db, auditEntries, rows, sql.raw("on conflict do nothing"));
 */
export function jsonInsert(
  db: ReadModelDb,
  table: SQLiteTable,
  rows: readonly Record<string, unknown>[],
  tail: SQL,
): BatchItem<"sqlite">[] | null {
  const shape = shapeOf(table);
  if (!shape) return null;
  // Each row's JSON, then as many rows per statement as fit both bounds (a longer row goes alone).
  let chunk: string[] = [];
  const chunks = [chunk];
  let chars = 0;
  for (const row of rows) {
    const line = shape.columns.map(([key, column]) => driverValue(column, row[key]));
    if (!line.every(jsonExact)) return null;
    const json = JSON.stringify(line);
    if (chunk.length > 0 && (chunk.length === ROWS_PER_STATEMENT || chars + json.length > CHARS_PER_STATEMENT)) {
      chunk = [];
      chunks.push(chunk);
      chars = 0;
    }
    chunk.push(json);
    chars += json.length + 1;
  }
  return chunks
    .filter((chunk) => chunk.length > 0)
    .map((chunk) =>
      db.insert(table).select(sql`${shape.select} from json_each(${`[${chunk.join(",")}]`}) where true ${tail}`),
    );
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * A `tail` for {@link jsonInsert} that makes it an upsert changing a row only from an older
 * version: `on conflict (<target>) do update set <c> = excluded.<c>, … where
 * <table>.<version> < excluded.<version>` (a late or repeated batch never moves a row
 * back). Text, made once by the caller: drizzle's `onConflictDoUpdate` costs ~50 µs to
 * build per statement.
 *
 * @example
 * const tail = newerOnly(eventStreams, [eventStreams.stream], [eventStreams.version], eventStreams.version);
 */
export function newerOnly(
  table: SQLiteTable,
  target: readonly SQLiteColumn[],
  set: readonly SQLiteColumn[],
  version: SQLiteColumn,
): SQL {
  const assignments = set.map((c) => `${quote(c.name)} = excluded.${quote(c.name)}`).join(", ");
  const v = quote(version.name);
  return sql.raw(
    `on conflict (${target.map((c) => quote(c.name)).join(", ")}) do update set ${assignments} ` +
      `where ${quote(getTableName(table))}.${v} < excluded.${v}`,
  );
}

/**
 * A `tail` for {@link jsonInsert} that makes it an upsert changing a row only where it differs
 * from the one inserted: `on conflict (<target>) do update set <c> = excluded.<c>, … where
 * <table>.<c> is not excluded.<c> or …`. For a copy of a source that never changes a record
 * (the audit chains): a repeat writes nothing and counts no change, and a row that drifted
 * from its source is put back.
 *
 * @example
 * const tail = unlessSame(auditEntries, [auditEntries.tenantId, auditEntries.seq], [auditEntries.hash, …]);
 */
export function unlessSame(table: SQLiteTable, target: readonly SQLiteColumn[], set: readonly SQLiteColumn[]): SQL {
  const name = quote(getTableName(table));
  const assignments = set.map((c) => `${quote(c.name)} = excluded.${quote(c.name)}`).join(", ");
  const differs = set.map((c) => `${name}.${quote(c.name)} is not excluded.${quote(c.name)}`).join(" or ");
  return sql.raw(
    `on conflict (${target.map((c) => quote(c.name)).join(", ")}) do update set ${assignments} where ${differs}`,
  );
}

/**
 * A list bound as one parameter, for `in`: `(select value from json_each(?))` over a JSON
 * array. However long the list, one parameter (D1 binds at most 100) and little for
 * drizzle to build.
 *
 * @example
 * db.select().from(t).where(sql`${t.id} in ${jsonList(ids)}`)
 */
export const jsonList = (values: readonly (string | number)[]): SQL =>
  sql`(select value from json_each(${JSON.stringify(values)}))`;
