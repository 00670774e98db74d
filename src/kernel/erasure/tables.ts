import { and, asc, eq, gt, inArray, is, sql, type Table } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { deadLetters, devMailbox, eventStreams, mailDeadLetters, mailSuppressions } from "../db/schema";
import { aggregateByName } from "../events/aggregate-rpc";
import type { ModuleDef } from "../modules/types";
import { jsonList, type ReadModelDb, readModels, rowsChanged, targetOf } from "../read-models";

/** The kernel's own tables that name a tenant: the stream catalog, the mail sink, the dead letters and their suppressed recipients. */
const KERNEL_TABLES: readonly Table[] = [eventStreams, devMailbox, deadLetters, mailDeadLetters, mailSuppressions];

/** Rows deleted per statement. */
const ROW_PAGE = 1_000;
/** Streams per page of the aggregate walk. */
const STREAM_PAGE = 100;

/** A table and its `tenant_id` column, for every declared table that has one (the registry has none: it is keyed by `id`). */
function tenantScoped(modules: readonly ModuleDef[]) {
  const tables = [...KERNEL_TABLES, ...modules.flatMap((m) => Object.values(m.tables ?? {}))];
  return tables.flatMap((table) => {
    if (!is(table, SQLiteTable)) return [];
    const config = getTableConfig(table);
    const column = config.columns.find((c) => c.name === "tenant_id");
    return column ? [{ name: config.name, table, column }] : [];
  });
}

/** The databases a tenant's rows can be in: D1, and libSQL when read models live there (both carry the same schema). */
function databasesOf(env: Env): ReadModelDb[] {
  const databases: ReadModelDb[] = [drizzle(env.DB)];
  if (targetOf(env).kind !== "d1") databases.push(readModels(env));
  return databases;
}

/**
 * Of `tenantIds`, those with a row left in some declared table with a `tenant_id` column: one
 * batch of reads per database however many tenants and tables, so a sweep that finds nothing
 * (the usual case) costs a round trip or two, where {@link eraseTenantRows} would make a
 * statement per table and tenant.
 */
export async function tenantsWithRows(
  env: Env,
  modules: readonly ModuleDef[],
  tenantIds: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  if (tenantIds.length === 0) return found;
  for (const db of databasesOf(env)) for (const id of await tenantsWithRowsIn(db, modules, tenantIds)) found.add(id);
  return found;
}

/** {@link tenantsWithRows} in one database: a read per table, all in one batch. */
export async function tenantsWithRowsIn(
  db: ReadModelDb,
  modules: readonly ModuleDef[],
  tenantIds: readonly string[],
): Promise<Set<string>> {
  const [first, ...rest] = tenantRowProbes(db, modules, tenantIds).map((probe) => probe.query);
  const found = new Set<string>();
  if (!first || tenantIds.length === 0) return found;
  for (const rows of await db.batch([first, ...rest])) for (const row of rows) found.add(row.tenantId);
  return found;
}

/** {@link tenantsWithRowsIn}'s read of each table, named by the table (the indexes test reads their plans). */
export function tenantRowProbes(db: ReadModelDb, modules: readonly ModuleDef[], tenantIds: readonly string[]) {
  const ids = jsonList([...new Set(tenantIds)]);
  return tenantScoped(modules).map(({ name, table, column }) => ({
    name,
    query: db
      .selectDistinct({ tenantId: sql<string>`${column}` })
      .from(table)
      .where(sql`${column} in ${ids}`),
  }));
}

/**
 * Deletes the tenant's rows from every declared table with a `tenant_id` column, on D1
 * and, when read models live on libSQL, there too (both carry the same schema, each
 * uses its part). Every delete names the tenant; a second run deletes nothing. Answers
 * the rows deleted by table, for the platform-side record.
 */
export async function eraseTenantRows(
  env: Env,
  modules: readonly ModuleDef[],
  tenantId: string,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const db of databasesOf(env)) {
    for (const { name, table, column } of tenantScoped(modules)) {
      // A page of rows per statement, so a tenant with millions of rows stays within a query's time limit.
      for (;;) {
        const page = db.select({ rowid: sql`rowid` }).from(table).where(eq(column, tenantId)).limit(ROW_PAGE);
        const deleted = rowsChanged(await db.delete(table).where(inArray(sql`rowid`, page)).run());
        counts[name] = (counts[name] ?? 0) + deleted;
        if (deleted < ROW_PAGE) break;
      }
    }
  }
  return counts;
}

/**
 * Empties every aggregate of the tenant (the types the modules declare), found in the
 * stream catalog a page at a time; the catalog's rows go with the tables afterwards, so
 * a run that dies half way finds the same streams again. Answers how many it erased.
 */
export async function eraseTenantAggregates(
  env: Env,
  modules: readonly ModuleDef[],
  tenantId: string,
): Promise<number> {
  const types = modules.flatMap((m) => (m.aggregates ?? []).map((a) => a.decider.type));
  if (types.length === 0) return 0;
  const db = readModels(env);
  let erased = 0;
  let after = "";
  for (;;) {
    const page = await db
      .select({ stream: eventStreams.stream })
      .from(eventStreams)
      .where(
        and(eq(eventStreams.tenantId, tenantId), inArray(eventStreams.type, types), gt(eventStreams.stream, after)),
      )
      .orderBy(asc(eventStreams.stream))
      .limit(STREAM_PAGE);
    for (const { stream } of page) {
      await aggregateByName(env, stream).eraseAll({ tenant_id: tenantId });
      erased++;
    }
    const last = page.at(-1)?.stream;
    if (page.length < STREAM_PAGE || last === undefined) return erased;
    after = last;
  }
}
