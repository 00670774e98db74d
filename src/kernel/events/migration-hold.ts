/**
 * A projection write that fails on a table or column a shipped migration adds, while D1
 * (or the libSQL read-model database) lacks that migration (a deploy between its code and `db migrate`, a column a developer
 * just added under `npm start`), is not a poison event: it succeeds once the migration is
 * applied. Such a message is held rather than retried: sent to the queue again after
 * {@link HOLD_SECONDS} and acked, since a `retry()` counts toward `max_retries` and five
 * of them would end in the dead-letter queue, which an operator would have to replay.
 */
import { missingSchema } from "../errors";
import type { MigrationWatch } from "../health/pending-migrations";
import type { Logger } from "../log";
import { errorFields } from "../log";
import { MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, messageBytes } from "../outbox/limits";

/** How long a held message waits: longer than the backoff's first steps, so a migrate window does not spin the queue. */
export const HOLD_SECONDS = 30;

/** Why a batch's failures wait: what the schema lacks, and the migrations D1 lacks. */
export interface MigrationWait {
  missing: string[];
  pending: readonly string[];
  /** Whether `error` is one the pending migrations explain (a missing table or column). */
  explains(error: unknown): boolean;
}

/**
 * Whether the batch's `failures` wait for a migration: only when one of them names a missing
 * table or column are the applied migrations looked at (through `watch`, so at most once
 * every few seconds per isolate; once nothing was pending, a missing table or column is what
 * makes it look again, as a database restored to before a migration lacks it). Null when none
 * does, or no shipped migration is missing (a bug, retried and dead-lettered as any) — except
 * in `development`, where a missing table or column is a read model edited under `npm start`
 * whose migration is not generated yet (the build ships none to compare with), and held too.
 * Logs one line naming what is missing and the pending migrations.
 */
export async function migrationWait(
  failures: ReadonlyMap<string, unknown>,
  watch: MigrationWatch | undefined,
  env: Env,
  options: { now: number; development: boolean; log: Logger },
): Promise<MigrationWait | null> {
  const { now, development, log } = options;
  const missing = [...new Set([...failures.values()].flatMap((e) => missingSchema(e) ?? []))];
  if (missing.length === 0) return null;
  let pending: readonly string[] = [];
  if (watch) {
    try {
      const look = watch.settled() ? await watch.recheck(env, now) : await watch.look(env, now);
      pending = look?.pending ?? [];
    } catch (error) {
      log.warn("applied migrations unreadable; failed projections retried as usual", errorFields(error));
      return null;
    }
  }
  if (pending.length === 0 && !development) return null;
  log.warn("projection waits for a pending migration: held, not dead-lettered", {
    missing,
    pending,
    delay_s: HOLD_SECONDS,
    hint:
      pending.length > 0
        ? "apply it: npx plinth db migrate (--remote for a deployed database)"
        : "generate its migration: npx drizzle-kit generate --name <what> (npm start applies it); if it is in " +
          "migrations/ already, the local D1 applied an older file under its name: stop npm start, " +
          "rm -rf .wrangler/state, start again (or put the change in a migration of its own)",
  });
  return { missing, pending, explains: (error) => missingSchema(error) !== null };
}

/**
 * Sends each held message's `body` (what of it waits: for a pack, only its failed events, so
 * a malformed one already stored as a dead letter is not stored again under the new message's
 * id) to the queue again after {@link HOLD_SECONDS} and acks the message (its attempts start
 * anew); if that send fails, retries the messages whole with that delay instead.
 */
export async function hold(
  held: readonly { message: Message<unknown>; body: unknown }[],
  queue: Queue,
  log: Logger,
): Promise<void> {
  // A batch's held messages may together pass what one sendBatch takes (50 messages of up to
  // 128 KB each): sent in groups within Queues' limits, or the whole send would fail and every
  // message be retried toward the dead-letter queue, the very thing holding avoids.
  for (const group of sendGroups(held)) {
    try {
      await queue.sendBatch(group.map(({ body }) => ({ body, contentType: "json", delaySeconds: HOLD_SECONDS })));
      for (const { message } of group) message.ack();
    } catch (error) {
      log.error("held messages not re-sent; retrying them", errorFields(error));
      for (const { message } of group) message.retry({ delaySeconds: HOLD_SECONDS });
    }
  }
}

/** `items` in order, in groups of at most {@link MAX_BATCH_MESSAGES} messages and {@link MAX_BATCH_BYTES}. */
function sendGroups<T extends { body: unknown }>(items: readonly T[]): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = messageBytes(JSON.stringify(item.body) ?? "");
    if (group.length > 0 && (group.length === MAX_BATCH_MESSAGES || bytes + size > MAX_BATCH_BYTES)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(item);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
