/**
 * The read-model database: D1 by default, or a libSQL server when
 * READ_MODEL_URL is set (docs/read-models.md). Projections, the consumers'
 * idempotency ledger and the stream catalog are written and read through
 * {@link readModels}, so one repository, written once against drizzle, runs on
 * either. The ledger lives beside the projections on purpose: a batch's
 * writes and its marks commit in one transaction on whichever database it is.
 */
import { createClient } from "@libsql/client/web";
import type { BatchItem } from "drizzle-orm/batch";
import { type DrizzleD1Database, drizzle as drizzleD1 } from "drizzle-orm/d1";
import { drizzle as drizzleLibsql } from "drizzle-orm/libsql/web";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import { ReadModelEnvSchema, type ReadModelTarget, readModelTarget } from "./config";

/**
 * A drizzle database of either kind: queries, and `batch`, which runs its
 * statements in one transaction (D1's batch; libSQL's batch in a deferred
 * transaction). Statements passed to `batch` must be built from the same
 * database value.
 */
export type ReadModelDb = BaseSQLiteDatabase<"async", unknown> & Pick<DrizzleD1Database, "batch">;

/** Where `env` puts read models: READ_MODEL_URL (a variable, not a binding) read without the full config parse. */
export function targetOf(env: Env): ReadModelTarget {
  const given = {
    READ_MODEL_URL: stringVar(env, "READ_MODEL_URL"),
    READ_MODEL_AUTH_TOKEN: stringVar(env, "READ_MODEL_AUTH_TOKEN"),
  };
  if (given.READ_MODEL_URL === undefined && given.READ_MODEL_AUTH_TOKEN === undefined) return { kind: "d1" };
  const parsed = ReadModelEnvSchema.safeParse(given);
  const target = parsed.success ? readModelTarget(parsed.data) : undefined;
  // The request path refuses a bad config first (config_invalid); this guards the queue and alarms.
  if (!target?.ok) throw new Error("READ_MODEL_URL / READ_MODEL_AUTH_TOKEN are invalid: see /readyz");
  return target.target;
}

function stringVar(env: Env, name: string): string | undefined {
  const value: unknown = Reflect.get(env, name);
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * The read-model database of `env`. With D1 it wraps `env.DB` as given (so a
 * counting wrapper, kernel/db/counting.ts, sees every round trip); with libSQL
 * it is a new client of the configured server, for the caller's context.
 *
 * Never one libSQL client for the isolate: the web client holds no socket, but it
 * holds calls. Its concurrency limit (20) queues a call behind others, and starts it
 * when one of those ends, in that call's context (a request, a queue batch, an
 * object); a call whose context was torn down never ends, and once 20 had, every
 * query of the isolate waited for ever. A client costs a few objects, no round
 * trip (protocol v2 needs no version probe), so each caller makes its own.
 */
export function readModels(env: Env): ReadModelDb {
  const target = targetOf(env);
  if (target.kind === "d1") return drizzleD1(env.DB);
  return drizzleLibsql(createClient({ url: target.url, authToken: target.authToken }));
}

/**
 * Runs `writes` in one transaction on `db` (one round trip); nothing to do for none.
 * Answers how many rows they changed, so a rebuild can tell what it repaired.
 */
export async function commit(db: ReadModelDb, writes: readonly BatchItem<"sqlite">[]): Promise<number> {
  const [first, ...rest] = writes;
  if (!first) return 0;
  const results: readonly unknown[] = await db.batch([first, ...rest]);
  return results.reduce<number>((n, r) => n + rowsChanged(r), 0);
}

/** How many rows a `run()` changed, from D1's result (`meta.changes`) or libSQL's (`rowsAffected`). */
export function rowsChanged(result: unknown): number {
  if (typeof result !== "object" || result === null) return 0;
  const affected: unknown = Reflect.get(result, "rowsAffected");
  if (typeof affected === "number") return affected;
  const meta: unknown = Reflect.get(result, "meta");
  const changes: unknown = typeof meta === "object" && meta !== null ? Reflect.get(meta, "changes") : undefined;
  return typeof changes === "number" ? changes : 0;
}
