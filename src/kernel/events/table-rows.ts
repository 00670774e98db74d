import { and, eq, getTableColumns, getTableName, lt, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { chunked, D1_MAX_PARAMS } from "../db/params";
import { jsonInsert, jsonList, newerOnly } from "../read-models";
import { type RowKey, rowKey, type StateRows } from "./projection";

/** A row field its table has no column for: a programming error of the module, named for its author. */
export class UnknownColumn extends Error {
  constructor(table: SQLiteTable, field: string) {
    super(
      `${getTableName(table)} has no column for the row's ${field}: add it to the table (read-model.ts, then a migration) or leave it out of row()`,
    );
    this.name = "UnknownColumn";
  }
}

/** A read-model table with one row per aggregate: `tenant_id`, `id` (its primary key) and `version`. */
type StateTable = SQLiteTable & Record<"tenant_id" | "id" | "version", SQLiteColumn>;

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
  // When the rows cannot travel as JSON, every column of a row may be a bound parameter.
  const rowsPerStatement = Math.max(1, Math.floor(D1_MAX_PARAMS / Object.keys(columns).length));
  const excluded = (column: SQLiteColumn) => sql.raw(`excluded."${column.name.replaceAll('"', '""')}"`);
  /** The columns a row gives, but its key, by property name: what an upsert of such rows sets. */
  const setOf = (given: string[]): [string, SQLiteColumn][] =>
    given.flatMap((k) => {
      const column = columns[k];
      return keyColumns.has(k) || !column ? [] : [[k, column]];
    });
  const upserts = new Map<string, SQL>();
  return {
    async load(db, keys) {
      const byTenant = new Map<string, Set<string>>();
      for (const k of keys) byTenant.set(k.tenantId, (byTenant.get(k.tenantId) ?? new Set()).add(k.id));
      // A tenant's ids travel as one JSON parameter, however many (kernel/read-models/json-rows.ts says why).
      const queries = [...byTenant].map(([tenantId, ids]) =>
        db
          .select()
          .from(t)
          .where(and(eq(tenant_id, tenantId), sql`${id} in ${jsonList([...ids])}`)),
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
        const given = Object.entries({ ...values, tenant_id: key.tenantId, id: key.id, version: at }).filter(
          ([, v]) => v !== undefined,
        );
        // A field with no column (one added to the state, not to read-model.ts) would be dropped, and the
        // row read back without it: a state schema's error in a list far from the cause. Named here instead.
        const unknown = given.find(([k]) => !Object.hasOwn(columns, k));
        if (unknown) throw new UnknownColumn(table, unknown[0]);
        const stored = Object.fromEntries(given);
        const signature = Object.keys(stored).sort().join(",");
        const group = bySignature.get(signature);
        if (group) group.push(stored);
        else bySignature.set(signature, [stored]);
      }
      return [...bySignature].flatMap(([signature, rows]) => {
        // The rows as one JSON parameter (kernel/read-models/json-rows.ts), the upsert clause as
        // text made once per set of columns: drizzle's own clause costs ~50 µs to build.
        let clause = upserts.get(signature);
        if (!clause) {
          clause = newerOnly(
            t,
            [tenant_id, id],
            setOf(Object.keys(rows[0] ?? {})).map(([, c]) => c),
            version,
          );
          upserts.set(signature, clause);
        }
        const asJson = jsonInsert(db, t, rows, clause);
        if (asJson) return asJson;
        // Each row's own values, taken from the proposed row; a row absent from the statement keeps its column.
        const set = Object.fromEntries(setOf(Object.keys(rows[0] ?? {})).map(([k, c]) => [k, excluded(c)]));
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
