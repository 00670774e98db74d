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
 *
 * A file the local D1 records as applied already (one rewritten under its name, as redoing an
 * unshipped module's migration does) is not applied again: wrangler applies a name once. That
 * is said, with the way out, since the table keeps the old file's shape and its projection
 * waits in the queue for a column that never comes.
 * @param {string[]} names the new (or, with `rewritten`, changed) migration files
 * @param {NewMigrationSteps} steps
 * @param {{ rewritten?: boolean }} [options] `rewritten`: files whose content changed, not new ones
 * @returns {Promise<boolean>} whether it was applied and listed
 */
export async function applyNewMigrations(names, steps, { rewritten = false } = {}) {
  steps.say(
    rewritten
      ? `plinth: migration ${names.join(", ")} changed; applying what is pending to the local D1…`
      : `plinth: new migration ${names.join(", ")}; applying it to the local D1…`,
  );
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
  const before = names.filter((name) => !result.applied.includes(name));
  if (before.length > 0)
    steps.say(
      `plinth: the local D1 applied ${before.join(", ")} before, under that name, and applies a name once: ` +
        (rewritten ? "what the file says now" : "whatever the file says that the applied one did not") +
        " is not in the local database, and a projection that needs it waits in the queue. " +
        "Stop npm start, rm -rf .wrangler/state and start again (a new demo tenant and key), or put the change in " +
        'a migration of its own (docs/modules.md, "Migrations").',
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
