import { and, eq, getTableColumns, getTableName, lt, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { chunked, D1_MAX_PARAMS } from "../db/params";
import { type RowKey, rowKey, type StateRows } from "./projection";

/** A read-model table with one row per aggregate: `tenant_id`, `id` (its primary key) and `version`. */
type StateTable = SQLiteTable & Record<"tenant_id" | "id" | "version", SQLiteColumn>;

/** Rows per statement when they travel as one JSON parameter (far below D1's 2 MB per value for state rows). */
const ROWS_PER_JSON = 100;

/**
 * `rows` as arrays of driver values in `inserted` order (a column a row lacks gets the
 * default drizzle would give it), for one JSON parameter read back with `json_each`; or
 * null when a value has no exact JSON form (a blob, a bigint, a SQL expression, a
 * non-finite number), and the rows are bound one parameter per value instead.
 *
 * Why: drizzle builds a statement a bound parameter at a time, and D1 binds at most 100,
 * which split a batch of many aggregates into a statement per ten `blog_posts` rows.
 * Measured in Node (building the writes of 1, 10 and 100 rows): 123, 302 and 3,115 µs
 * with a parameter per value and drizzle's upsert clause; 26, 96 and 808 µs as one JSON
 * parameter with the clause spelled once per set of columns.
 */
function jsonRows(inserted: [string, SQLiteColumn][], rows: Record<string, unknown>[]): unknown[][] | null {
  const out: unknown[][] = [];
  for (const row of rows) {
    const values: unknown[] = [];
    for (const [key, column] of inserted) {
      const given = row[key];
      let value: unknown;
      // null is bound as null, as drizzle binds it (a column's mapping never sees it).
      if (given === null) value = null;
      else if (given !== undefined) value = column.mapToDriverValue(given);
      else if (column.default !== undefined && column.default !== null) value = column.default;
      else if (column.defaultFn) value = column.defaultFn();
      else if (column.onUpdateFn) value = column.onUpdateFn();
      else value = null;
      if (!jsonExact(value)) return null;
      values.push(value);
    }
    out.push(values);
  }
  return out;
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

/**
 * The {@link StateRows} of a drizzle table: the module says how a row reads
 * as a state and how a state is stored; loading a batch's rows (grouped by
 * tenant, one round trip) and the version guard of each write (an upsert
 * that changes only an older row) are the kernel's.
 *
 * @example
 * export const postRows = tableRows(blogPosts, {
 *   state: (row) => PostStateSchema.parse(row),
 *   row: (state, key) => ({ ...state, id: key.id, author_id: state.author_id ?? "" }),
 * });
 */
export function tableRows<T extends StateTable, S>(
  table: T,
  map: {
    /** The state a stored row holds. */
    state(row: T["$inferSelect"]): S;
    /** The row storing `state` (without tenant_id and version, which the kernel sets), or null to store nothing. */
    row(state: S, key: RowKey): Omit<T["$inferInsert"], "tenant_id" | "version"> | null;
  },
): StateRows<S> {
  const { tenant_id, id, version } = table;
  const t: SQLiteTable = table;
  const keyColumns = new Set(["tenant_id", "id"]);
  const columns: Record<string, SQLiteColumn> = getTableColumns(t);
  // Every column of a row may be a bound parameter.
  const rowsPerStatement = Math.max(1, Math.floor(D1_MAX_PARAMS / Object.keys(columns).length));
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const excluded = (column: SQLiteColumn) => sql.raw(`excluded.${quote(column.name)}`);
  /**
   * `on conflict (tenant_id, id) do update set <each given column> = excluded.<it> where
   * <stored version> < excluded.version`, as text: the same clause drizzle's
   * `onConflictDoUpdate` renders for the bound-parameter path below.
   */
  const upsertClause = (given: string[]) => {
    const set = given
      .filter((k) => !keyColumns.has(k) && columns[k])
      .map((k) => `${quote(columns[k]?.name ?? k)} = excluded.${quote(columns[k]?.name ?? k)}`);
    const v = quote(version.name);
    return `on conflict (${quote(tenant_id.name)}, ${quote(id.name)}) do update set ${set.join(", ")} where ${quote(getTableName(t))}.${v} < excluded.${v}`;
  };
  const upserts = new Map<string, SQL>();
  // The columns an insert writes, in the order drizzle lists them, and a select reading them from JSON rows;
  // a table with generated columns (which an insert leaves out) keeps drizzle's own values.
  const inserted = Object.values(columns).some((column) => column.generated) ? null : Object.entries(columns);
  const selectJson = sql.raw(`select ${(inserted ?? []).map((_, i) => `json_extract(value, '$[${i}]')`).join(", ")}`);
  return {
    async load(db, keys) {
      const byTenant = new Map<string, Set<string>>();
      for (const k of keys) byTenant.set(k.tenantId, (byTenant.get(k.tenantId) ?? new Set()).add(k.id));
      // A tenant's ids travel as one JSON parameter, however many (see jsonRows on why).
      const queries = [...byTenant].map(([tenantId, ids]) =>
        db
          .select()
          .from(t)
          .where(
            and(eq(tenant_id, tenantId), sql`${id} in (select value from json_each(${JSON.stringify([...ids])}))`),
          ),
      );
      const [first, ...rest] = queries;
      if (!first) return new Map();
      const results = rest.length === 0 ? [await first] : await db.batch([first, ...rest]);
      const found = new Map<string, { version: number; state: S }>();
      for (const row of results.flat() as T["$inferSelect"][]) {
        const r = row as Record<string, unknown>;
        found.set(rowKey({ tenantId: String(r.tenant_id), id: String(r.id) }), {
          version: Number(r.version),
          state: map.state(row),
        });
      }
      return found;
    },
    write(db, states) {
      // Rows that store the same columns share a statement (its `set` names those columns).
      const bySignature = new Map<string, Record<string, unknown>[]>();
      for (const { key, version: at, state } of states) {
        const values = map.row(state, key);
        if (!values) continue;
        const stored = Object.fromEntries(
          Object.entries({ ...values, tenant_id: key.tenantId, id: key.id, version: at }).filter(
            ([k, v]) => k in columns && v !== undefined,
          ),
        );
        const signature = Object.keys(stored).sort().join(",");
        const group = bySignature.get(signature);
        if (group) group.push(stored);
        else bySignature.set(signature, [stored]);
      }
      return [...bySignature].flatMap(([signature, rows]) => {
        const asJson = inserted && jsonRows(inserted, rows);
        if (asJson) {
          // The whole statement after `insert into t (columns)` is spelled here, the upsert clause
          // as text made once per set of columns: drizzle's own clause costs ~50 µs to build.
          let upsert = upserts.get(signature);
          if (!upsert) {
            upsert = sql.raw(upsertClause(Object.keys(rows[0] ?? {})));
            upserts.set(signature, upsert);
          }
          return chunked(asJson, ROWS_PER_JSON).map((chunk) =>
            db.insert(t).select(sql`${selectJson} from json_each(${JSON.stringify(chunk)}) where true ${upsert}`),
          );
        }
        // Each row's own values, taken from the proposed row; a row absent from the statement keeps its column.
        const set = Object.fromEntries(
          Object.keys(rows[0] ?? {})
            .filter((k) => !keyColumns.has(k))
            .flatMap((k) => (columns[k] ? [[k, excluded(columns[k])]] : [])),
        );
        // Only where the stored row is older than the proposed one: a late batch never moves a row back.
        const upsert = { target: [tenant_id, id], set, setWhere: lt(version, excluded(version)) };
        return chunked(rows, rowsPerStatement).map((chunk) =>
          db
            .insert(t)
            .values(chunk as T["$inferInsert"][])
            .onConflictDoUpdate(upsert),
        );
      });
    },
  };
}
