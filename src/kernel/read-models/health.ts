import { sql } from "drizzle-orm";
import { CheckFailed, type HealthCheck } from "../health/checks";
import { missingTablesProblem, tablesOfApplied } from "../health/migration-tables";
import { readModels, targetOf } from "./db";

/** Whether `error` or one of its causes (drizzle wraps the driver's error) says a table is missing. */
function noSuchTable(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) if (e.message.includes("no such table")) return true;
  return false;
}

/**
 * How many migrations drizzle's migrator recorded in the libSQL read-model database of
 * `env` (`__drizzle_migrations`, one row per file applied, in order: `npx plinth db
 * migrate`); null before it made that table.
 */
export async function libsqlAppliedCount(env: Env): Promise<number | null> {
  try {
    const row = await readModels(env).get<{ n: number }>(sql`select count(*) as n from __drizzle_migrations`);
    return Number(row?.n ?? 0);
  } catch (error) {
    if (noSuchTable(error)) return null;
    throw error;
  }
}

/** Which of `tables` the libSQL read-model database of `env` lacks, in one `sqlite_master` query. */
async function libsqlAbsent(env: Env, tables: readonly string[]): Promise<Set<string>> {
  if (tables.length === 0) return new Set();
  const rows = await readModels(env).all<{ name: string }>(sql`select name from sqlite_master where type = 'table'`);
  const present = new Set(rows.map((r) => r.name));
  return new Set(tables.filter((t) => !present.has(t)));
}

/**
 * `/readyz`'s `read_models` when READ_MODEL_URL points at libSQL: the server
 * answers, the migrations drizzle's migrator recorded there
 * (`npx plinth db migrate`) are as many as plinth ships, and the tables they made
 * (`tables`, the generated `MIGRATION_TABLES`) are there: one renamed or dropped by hand
 * fails every read of it while the record looks complete, and a read's 503 sends the
 * operator here to find it. With D1 the `d1` and `migrations` checks already cover the
 * read models, and this one passes.
 */
export function readModelsCheck(
  expected: readonly string[],
  tables: Readonly<Record<string, readonly string[]>> = {},
): HealthCheck {
  return {
    name: "read_models",
    async run(env) {
      if (targetOf(env).kind === "d1") return;
      const applied = await libsqlAppliedCount(env);
      if (applied === null) throw new CheckFailed("libSQL answers but has no migrations: run `npx plinth db migrate`");
      if (applied < expected.length) {
        throw new CheckFailed(`libSQL has ${applied} of ${expected.length} migrations: run \`npx plinth db migrate\``);
      }
      if (applied > expected.length) {
        throw new CheckFailed(`libSQL has ${applied} migrations, more than the ${expected.length} this build ships`);
      }
      const made = tablesOfApplied(expected, tables);
      const absent = await libsqlAbsent(env, [...new Set(made.map((m) => m.table))]);
      const missing = missingTablesProblem(made.filter((m) => absent.has(m.table)));
      if (missing !== null) throw new CheckFailed(missing);
    },
  };
}
