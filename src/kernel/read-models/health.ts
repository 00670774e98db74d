import { sql } from "drizzle-orm";
import { CheckFailed, type HealthCheck } from "../health/checks";
import { readModels, targetOf } from "./db";

/** Whether `error` or one of its causes (drizzle wraps the driver's error) says a table is missing. */
function noSuchTable(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) if (e.message.includes("no such table")) return true;
  return false;
}

/**
 * `/readyz`'s `read_models` when READ_MODEL_URL points at libSQL: the server
 * answers, and the migrations drizzle's migrator recorded there
 * (`npx plinth db migrate`) are as many as plinth ships. With D1 the `d1` and
 * `migrations` checks already cover the read models, and this one passes.
 */
export function readModelsCheck(expected: readonly string[]): HealthCheck {
  return {
    name: "read_models",
    async run(env) {
      if (targetOf(env).kind === "d1") return;
      const db = readModels(env);
      let applied: number;
      try {
        const row = await db.get<{ n: number }>(sql`select count(*) as n from __drizzle_migrations`);
        applied = Number(row?.n ?? 0);
      } catch (error) {
        if (noSuchTable(error)) {
          throw new CheckFailed("libSQL answers but has no migrations: run `npx plinth db migrate`");
        }
        throw error;
      }
      if (applied < expected.length) {
        throw new CheckFailed(`libSQL has ${applied} of ${expected.length} migrations: run \`npx plinth db migrate\``);
      }
      if (applied > expected.length) {
        throw new CheckFailed(`libSQL has ${applied} migrations, more than the ${expected.length} this build ships`);
      }
    },
  };
}
