// Which tables each migration leaves behind, read from its SQL: what `/readyz` checks exist
// once the migration is recorded as applied (src/generated/migrations.ts, MIGRATION_TABLES).

const NAME = '[`"[]?(\\w+)[`"\\]]?';
const STATEMENT = new RegExp(
  `create\\s+table\\s+(?:if\\s+not\\s+exists\\s+)?${NAME}|drop\\s+table\\s+(?:if\\s+exists\\s+)?${NAME}|alter\\s+table\\s+${NAME}\\s+rename\\s+to\\s+${NAME}`,
  "gi",
);

/**
 * The tables each migration creates that the later ones keep, in the order given (wrangler's).
 * A table dropped later is no one's; one renamed (drizzle-kit's `__new_x` → `x` when it
 * recreates a table) belongs to the migration that renamed it, since only from then is it there.
 *
 * @param {readonly { name: string, sql: string }[]} migrations
 * @returns {Record<string, string[]>}
 * @example migrationTables([{ name: "0000_init.sql", sql: "CREATE TABLE `a` (…);" }]) // { "0000_init.sql": ["a"] }
 */
export function migrationTables(migrations) {
  /** @type {Map<string, string>} table → the migration that made it */
  const owner = new Map();
  for (const { name, sql } of migrations) {
    for (const m of sql.matchAll(STATEMENT)) {
      const [, created, dropped, from, to] = m;
      if (created) owner.set(created, name);
      else if (dropped) owner.delete(dropped);
      else if (from && to) {
        owner.delete(from);
        owner.set(to, name);
      }
    }
  }
  /** @type {Record<string, string[]>} */
  const byMigration = Object.fromEntries(migrations.map((m) => [m.name, []]));
  for (const [table, name] of owner) byMigration[name]?.push(table);
  for (const tables of Object.values(byMigration)) tables.sort();
  return byMigration;
}
