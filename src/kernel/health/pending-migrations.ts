import { targetOf } from "../read-models/db";
import { libsqlAppliedCount } from "../read-models/health";
import { appliedMigrations } from "./checks";

/** How long a look that found migrations pending stands before the next one looks again. */
export const PENDING_RECHECK_MS = 5_000;

/** What a look at `d1_migrations` told: the shipped migrations D1 lacks, and whether this call looked. */
export interface PendingLook {
  pending: readonly string[];
  /** True when this call read `d1_migrations`; false when it answered from the isolate's last look. */
  fresh: boolean;
}

/**
 * This isolate's knowledge of which shipped migrations D1 lacks (and, with READ_MODEL_URL
 * set, the libSQL read-model database), shared by the API's read
 * guard (kernel/http/migrations-gate) and the queue consumer (a projection write that fails
 * on a missing table or column waits for the migration instead of dead-lettering).
 */
export interface MigrationWatch {
  /** Nothing is pending and never will be in this isolate: no look is needed. */
  settled(): boolean;
  /**
   * The shipped migrations `env`'s databases lack at `now` (ms): D1's by name, as its
   * `d1_migrations` records them, and with READ_MODEL_URL set the libSQL read models', as
   * `libSQL <name>` (drizzle's `__drizzle_migrations` records them in order, without names,
   * so those past its count). Looks once per isolate once nothing is pending (migrations are
   * only ever added), and while something is, at most every {@link PENDING_RECHECK_MS}.
   * Migrations applied but not shipped (the deploy order, migrations before code) are not
   * pending.
   *
   * @throws what reading either record threw; the next call looks again.
   */
  look(env: Env, now: number): Promise<PendingLook>;
}

/** A watch over the migrations this build ships, `expected`, in order. */
export function migrationWatch(expected: readonly string[]): MigrationWatch {
  let settled = expected.length === 0;
  let lookedAt = Number.NEGATIVE_INFINITY;
  let pending: readonly string[] = [];
  return {
    settled: () => settled,
    async look(env, now) {
      if (settled) return { pending: [], fresh: false };
      if (now - lookedAt < PENDING_RECHECK_MS) return { pending, fresh: false };
      const applied = new Set((await appliedMigrations(env.DB)) ?? []);
      const libsql = targetOf(env).kind === "libsql" ? ((await libsqlAppliedCount(env)) ?? 0) : expected.length;
      pending = [
        ...expected.filter((name) => !applied.has(name)),
        ...expected.slice(libsql).map((name) => `libSQL ${name}`),
      ];
      lookedAt = now;
      settled = pending.length === 0;
      return { pending, fresh: true };
    },
  };
}
