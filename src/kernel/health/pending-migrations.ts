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
 * This isolate's knowledge of which shipped migrations D1 lacks, shared by the API's read
 * guard (kernel/http/migrations-gate) and the queue consumer (a projection write that fails
 * on a missing table or column waits for the migration instead of dead-lettering).
 */
export interface MigrationWatch {
  /** Nothing is pending and never will be in this isolate: no look is needed. */
  settled(): boolean;
  /**
   * The shipped migrations D1 lacks at `now` (ms). Looks at `d1_migrations` once per
   * isolate once nothing is pending (migrations are only ever added), and while something
   * is, at most every {@link PENDING_RECHECK_MS}. Migrations applied but not shipped (the
   * deploy order, migrations before code) are not pending.
   *
   * @throws what reading `d1_migrations` threw; the next call looks again.
   */
  look(db: D1Database, now: number): Promise<PendingLook>;
}

/** A watch over the migrations this build ships, `expected`, in order. */
export function migrationWatch(expected: readonly string[]): MigrationWatch {
  let settled = expected.length === 0;
  let lookedAt = Number.NEGATIVE_INFINITY;
  let pending: readonly string[] = [];
  return {
    settled: () => settled,
    async look(db, now) {
      if (settled) return { pending: [], fresh: false };
      if (now - lookedAt < PENDING_RECHECK_MS) return { pending, fresh: false };
      const applied = new Set((await appliedMigrations(db)) ?? []);
      pending = expected.filter((name) => !applied.has(name));
      lookedAt = now;
      settled = pending.length === 0;
      return { pending, fresh: true };
    },
  };
}
