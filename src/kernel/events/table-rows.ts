import { and, eq, getTableColumns, inArray, lt, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { chunked, D1_MAX_PARAMS } from "../db/params";
import { type RowKey, rowKey, type StateRows } from "./projection";

/** A read-model table with one row per aggregate: `tenant_id`, `id` (its primary key) and `version`. */
type StateTable = SQLiteTable & Record<"tenant_id" | "id" | "version", SQLiteColumn>;

/** Ids per select, with one parameter for the tenant. */
const IDS_PER_QUERY = D1_MAX_PARAMS - 10;

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
  const excluded = (column: SQLiteColumn) => sql.raw(`excluded."${column.name.replaceAll('"', '""')}"`);
  return {
    async load(db, keys) {
      const byTenant = new Map<string, string[]>();
      for (const k of keys) byTenant.set(k.tenantId, [...(byTenant.get(k.tenantId) ?? []), k.id]);
      const queries = [...byTenant].flatMap(([tenantId, ids]) =>
        chunked([...new Set(ids)], IDS_PER_QUERY).map((chunk) =>
          db
            .select()
            .from(t)
            .where(and(eq(tenant_id, tenantId), inArray(id, chunk))),
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
      // Rows that store the same columns share statements: one multi-row upsert per
      // D1-sized chunk, so a batch of many aggregates costs a statement per ~10 rows
      // (building a drizzle statement is most of a pass's CPU), not one per row.
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
        bySignature.set(signature, [...(bySignature.get(signature) ?? []), stored]);
      }
      return [...bySignature.values()].flatMap((rows) => {
        const first = rows[0] ?? {};
        // Each row's own values, taken from the proposed row; a row absent from the statement keeps its column.
        const set = Object.fromEntries(
          Object.keys(first)
            .filter((k) => !keyColumns.has(k))
            .flatMap((k) => (columns[k] ? [[k, excluded(columns[k])]] : [])),
        );
        return chunked(rows, rowsPerStatement).map((chunk) =>
          db
            .insert(t)
            .values(chunk as T["$inferInsert"][])
            // Only where the stored row is older than the proposed one: a late batch never moves a row back.
            .onConflictDoUpdate({ target: [tenant_id, id], set, setWhere: lt(version, excluded(version)) }),
        );
      });
    },
  };
}
