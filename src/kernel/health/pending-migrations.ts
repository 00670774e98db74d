import { targetOf } from "../read-models/db";
import { libsqlAppliedCount } from "../read-models/health";
import { appliedMigrations } from "./checks";

/** How long a look that found migrations pending stands before the next one looks again. */
export const PENDING_RECHECK_MS = 5_000;

/**
 * How long a look that found nothing pending stands before a read has the isolate look again
 * in the background (one `d1_migrations` read a minute, off the request's path): a D1 restore
 * to before an `ADD COLUMN` keeps the table, so no read fails to say the schema went back.
 */
export const SETTLED_RECHECK_MS = 60_000;

/** What a look at `d1_migrations` told: the shipped migrations D1 lacks, and whether this call looked. */
export interface PendingLook {
  pending: readonly string[];
  /** True when this call read `d1_migrations`; false when it answered from the isolate's last look. */
  fresh: boolean;
}

/**
 * This isolate's knowledge of which shipped migrations D1 lacks (and, with READ_MODEL_URL
 * set, the libSQL read-model database), shared by the API's read guard
 * (kernel/http/migrations-gate), the answer to a read of a missing table (kernel/http/edge)
 * and the queue consumer (a projection write that fails on a missing table or column waits
 * for the migration instead of dead-lettering).
 */
export interface MigrationWatch {
  /** Nothing was pending at the last look: no look is needed until something says otherwise. */
  settled(): boolean;
  /**
   * The shipped migrations `env`'s databases lack at `now` (ms): D1's by name, as its
   * `d1_migrations` records them, and with READ_MODEL_URL set the libSQL read models', as
   * `libSQL <name>` (drizzle's `__drizzle_migrations` records them in order, without names,
   * so those past its count). Looks once per isolate once nothing is pending (migrations are
   * only ever added), and while something is, at most every {@link PENDING_RECHECK_MS}.
   * Migrations applied but not shipped (the deploy order, migrations before code) are not
   * pending. Calls made while a look is under way share it.
   *
   * @throws what reading either record threw; the next call looks again.
   */
  look(env: Env, now: number): Promise<PendingLook>;
  /**
   * As {@link look}, but looks even when settled: a read met a missing table, evidence that
   * the last look may no longer hold (D1 restored with Time Travel to before a migration, a
   * database swapped under READ_MODEL_URL). Finding something pending un-settles the watch,
   * so the read guard refuses reads again. At most one look every {@link PENDING_RECHECK_MS}
   * whether it succeeded or not, so a flood of failing reads costs one query, not one each:
   * between them, the last look's answer, or null when no look has succeeded yet.
   *
   * @throws what reading either record threw.
   */
  recheck(env: Env, now: number): Promise<PendingLook | null>;
  /** Settled, and its last look is {@link SETTLED_RECHECK_MS} old: worth a {@link recheck} after the response. */
  due(now: number): boolean;
}

/** A watch over the migrations this build ships, `expected`, in order. */
export function migrationWatch(expected: readonly string[]): MigrationWatch {
  let settled = expected.length === 0;
  /** When the last look that succeeded was taken (ms); what it found is `pending`. */
  let lookedAt = Number.NEGATIVE_INFINITY;
  /** When the last look began, succeeded or not: what paces {@link MigrationWatch.recheck}. */
  let triedAt = Number.NEGATIVE_INFINITY;
  let pending: readonly string[] = [];
  let underway: Promise<readonly string[]> | null = null;

  async function read(env: Env): Promise<readonly string[]> {
    const applied = new Set((await appliedMigrations(env.DB)) ?? []);
    const libsql = targetOf(env).kind === "libsql" ? ((await libsqlAppliedCount(env)) ?? 0) : expected.length;
    return [
      ...expected.filter((name) => !applied.has(name)),
      ...expected.slice(libsql).map((name) => `libSQL ${name}`),
    ];
  }

  async function lookNow(env: Env, now: number): Promise<PendingLook> {
    if (underway) return { pending: await underway, fresh: false };
    triedAt = now;
    underway = read(env);
    try {
      pending = await underway;
    } finally {
      underway = null;
    }
    lookedAt = now;
    settled = pending.length === 0;
    return { pending, fresh: true };
  }

  return {
    settled: () => settled,
    async look(env, now) {
      if (settled) return { pending: [], fresh: false };
      if (now - lookedAt < PENDING_RECHECK_MS) return { pending, fresh: false };
      return lookNow(env, now);
    },
    async recheck(env, now) {
      if (expected.length === 0) return { pending: [], fresh: false };
      if (underway || now - triedAt >= PENDING_RECHECK_MS) return lookNow(env, now);
      return lookedAt === Number.NEGATIVE_INFINITY && !settled ? null : { pending, fresh: false };
    },
    due: (now) =>
      settled && expected.length > 0 && underway === null && now - Math.max(lookedAt, triedAt) >= SETTLED_RECHECK_MS,
  };
}
