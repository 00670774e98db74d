// npm start: what happens when a migration appears in migrations/ while plinth runs.

/**
 * @typedef {object} NewMigrationSteps what applying a new migration under `npm start` does, as ports
 * @property {() => Promise<{ code: number, output: string, applied: string[] }>} migrateD1 apply the pending migrations to the local D1
 * @property {(() => Promise<{ before: number, after: number }>) | null} migrateLibsql the same for libSQL read models, when configured
 * @property {() => Promise<{ code: number, output: string }>} listMigrations rewrite src/generated/migrations.ts (`generate --sources-only`)
 * @property {(line: string) => void} say
 */

/**
 * Applies migrations generated while plinth runs, then lists them in src/generated/migrations.ts.
 * The running build compares that list with D1's record to refuse reads while one is pending
 * (kernel/http/migrations-gate) and to hold projections that wait for one; with the list left
 * as it was, a new migration was "applied but not shipped" to the Worker, and a column added
 * before its migration applied looked like a bug. Writing the list reloads the Worker, after
 * the migration is in, so no read is refused. A failed migration lists nothing: the list would
 * claim a migration the database lacks, and every read would answer 503.
 * @param {string[]} names the new migration files
 * @param {NewMigrationSteps} steps
 * @returns {Promise<boolean>} whether it was applied and listed
 */
export async function applyNewMigrations(names, steps) {
  steps.say(`plinth: new migration ${names.join(", ")}; applying it to the local D1…`);
  const result = await steps.migrateD1();
  if (result.code !== 0) {
    steps.say(result.output.trimEnd());
    steps.say("plinth: the migration failed (above); fix it, then: npx plinth db migrate");
    return false;
  }
  steps.say(
    result.applied.length === 0
      ? "plinth: local D1 already up to date"
      : `plinth: local D1 migrated (${result.applied.join(", ")})`,
  );
  if (steps.migrateLibsql) {
    try {
      const { before, after } = await steps.migrateLibsql();
      steps.say(`plinth: libSQL read models migrated (${after - before} applied, ${after} in all)`);
    } catch (error) {
      const e = /** @type {Error & { cause?: Error }} */ (error);
      steps.say(`plinth: libSQL migrations failed: ${e.cause?.message ?? e.message}`);
      return false;
    }
  }
  const listed = await steps.listMigrations();
  if (listed.code !== 0) {
    steps.say(listed.output.trimEnd());
    steps.say("plinth: src/generated/migrations.ts not rewritten (above); run: npm run generate");
    return false;
  }
  steps.say("plinth: src/generated/migrations.ts lists it now; commit both with your change");
  return true;
}
