import { lapsed } from "../clock/lapsed";
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
   * pending. A call made while a look is under way answers from the last look, never waiting
   * on another caller's (see {@link migrationWatch}).
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

/**
 * How long a look may be under way before another call takes it for lost and looks on its own.
 * A look runs in the context of the request (or batch) that made it; if that context is torn
 * down first (its time limit, a test file ending), its read never settles.
 */
export const LOOK_STUCK_MS = 5_000;

/**
 * A watch over the migrations this build ships, `expected`, in order.
 *
 * The watch is the isolate's, shared by every request, queue batch and object it runs, and each
 * look runs in the context of its caller: so calls share what looks found (plain data) and a
 * claim on the look under way with when it began, never its promise. A call that awaited
 * another context's look failed when that call settled in the other context, or, when that
 * context was torn down, waited for ever, and so did every later read (they joined it). While a
 * look is under way, others answer from the last look; before any look has answered, a call
 * looks on its own (the first reads of a new isolate may each read `d1_migrations` once).
 */
export function migrationWatch(expected: readonly string[]): MigrationWatch {
  let settled = expected.length === 0;
  /** When the look that found `pending` was taken (ms); none has answered yet while -Infinity. */
  let lookedAt = Number.NEGATIVE_INFINITY;
  /** When the last look began, succeeded or not: what paces {@link MigrationWatch.recheck}. */
  let triedAt = Number.NEGATIVE_INFINITY;
  let pending: readonly string[] = [];
  /** The look under way: when it began, by its caller's clock. */
  let looking: { since: number } | null = null;

  /** A look is under way and not yet taken for lost (a clock behind its start is another one: lost). */
  const underWay = (now: number): boolean => looking !== null && !lapsed(looking.since, now, LOOK_STUCK_MS);
  /** The last look's answer, for a call made while another looks: null when none has answered yet. */
  const last = (): PendingLook | null => (lookedAt === Number.NEGATIVE_INFINITY ? null : { pending, fresh: false });

  async function read(env: Env): Promise<readonly string[]> {
    const applied = new Set((await appliedMigrations(env.DB)) ?? []);
    const libsql = targetOf(env).kind === "libsql" ? ((await libsqlAppliedCount(env)) ?? 0) : expected.length;
    return [
      ...expected.filter((name) => !applied.has(name)),
      ...expected.slice(libsql).map((name) => `libSQL ${name}`),
    ];
  }

  async function lookNow(env: Env, now: number): Promise<PendingLook> {
    const claim = { since: now };
    looking = claim;
    triedAt = now;
    let found: readonly string[];
    try {
      found = await read(env);
    } finally {
      if (looking === claim) looking = null;
    }
    // A look that began before the one whose answer is held (it was taken for lost) changes nothing.
    if (now >= lookedAt) {
      pending = found;
      lookedAt = now;
      settled = pending.length === 0;
    }
    return { pending: found, fresh: true };
  }

  return {
    settled: () => settled,
    async look(env, now) {
      if (settled) return { pending: [], fresh: false };
      if (now - lookedAt < PENDING_RECHECK_MS) return { pending, fresh: false };
      return (underWay(now) && last()) || lookNow(env, now);
    },
    async recheck(env, now) {
      if (expected.length === 0) return { pending: [], fresh: false };
      if (underWay(now)) return last();
      if (now - triedAt >= PENDING_RECHECK_MS || looking !== null) return lookNow(env, now);
      return lookedAt === Number.NEGATIVE_INFINITY && !settled ? null : { pending, fresh: false };
    },
    due: (now) =>
      settled && expected.length > 0 && !underWay(now) && now - Math.max(lookedAt, triedAt) >= SETTLED_RECHECK_MS,
  };
}
