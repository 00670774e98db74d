/**
 * One drain of a Durable Object's outbox: its oldest rows, in batches within
 * Queues' limits and packed several events to a message, sent and then
 * deleted. The relay (relay.ts) decides when a drain runs and retries it.
 */

import { storedJson } from "../db/stored-json";
import { packMessages } from "../events/pack";
import { MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, MAX_MESSAGE_BYTES, messageBytes } from "./limits";

/** The part of a Queue binding the drain uses: `env.EVENTS` satisfies it, and so does a test fake. */
export type OutboxQueue = Pick<Queue, "sendBatch">;

/** Options of one drain run. */
export interface DrainOptions {
  /** Rows per `sendBatch`, at most 100 (Queues' limit); default 100. */
  batchSize?: number;
  /** Batches per run, so one invocation stays bounded; default 10. */
  maxBatches?: number;
}

interface OutboxRow extends Record<string, SqlStorageValue> {
  seq: number;
  type: string;
  event: string;
  created_at: string;
}

/**
 * The oldest rows that fit in one sendBatch, and whether rows were left behind by the
 * limits (more than `limit` rows, or the byte limit); throws on a row no queue message can carry.
 */
function nextBatch(
  sql: SqlStorage,
  limit: number,
): { batch: { seq: number; body: unknown; bytes: number; createdAt: string }[]; full: boolean } {
  // One row more than the batch holds tells whether any are left, without a count.
  const rows = sql
    .exec<OutboxRow>("select seq, type, event, created_at from outbox order by seq limit ?", limit + 1)
    .toArray();
  const batch: { seq: number; body: unknown; bytes: number; createdAt: string }[] = [];
  let bytes = 0;
  for (const row of rows.slice(0, limit)) {
    const size = messageBytes(row.event);
    if (size > MAX_MESSAGE_BYTES) {
      if (batch.length > 0) return { batch, full: true };
      // Never dropped: the row blocks the outbox (and is logged on every attempt) until an operator acts.
      // Writers refuse such events before storing them (./limits.ts), so only a row stored otherwise gets here.
      throw new Error(`outbox row seq ${row.seq} (${row.type}) is ${size} bytes, over the queue message limit`);
    }
    if (bytes + size > MAX_BATCH_BYTES) return { batch, full: true };
    // Sent as stored: the writer built it from the envelope schema, and consumers parse it again.
    const body = storedJson(row.event, `outbox row seq ${row.seq} (${row.type})`);
    batch.push({ seq: row.seq, body, bytes: size, createdAt: row.created_at });
    bytes += size;
  }
  return { batch, full: rows.length > limit };
}

/**
 * Sends a Durable Object's pending outbox rows to `queue`, oldest first (`seq`
 * order), in batches within Queues' limits (100 rows, ~256 KB), its events
 * packed several to a message (kernel/events/pack.ts). A batch's
 * rows are deleted only after `sendBatch` resolved; if it throws, the drain
 * stops and rethrows with those rows still stored. A crash between send and
 * delete sends them again: delivery is at least once, and consumers dedupe by
 * event id. Call it through OutboxRelay (relay.ts), which keeps two drains of one
 * object from sending a row twice.
 *
 * @example
 * const { sent, remaining } = await drainOutbox(ctx.storage, env.EVENTS);
 */
export async function drainOutbox(
  storage: DurableObjectStorage,
  queue: OutboxQueue,
  options: DrainOptions = {},
): Promise<DrainResult> {
  const batchSize = Math.min(Math.max(Math.trunc(options.batchSize ?? MAX_BATCH_MESSAGES), 1), MAX_BATCH_MESSAGES);
  const maxBatches = Math.max(Math.trunc(options.maxBatches ?? 10), 1);
  const sql = storage.sql;
  let sent = 0;
  let oldest: string | undefined;
  for (let i = 0; i < maxBatches; i++) {
    const { batch, full } = nextBatch(sql, batchSize);
    if (batch.length === 0) break;
    oldest ??= batch[0]?.createdAt;
    // Consecutive events travel together, up to 25 to a message (kernel/events/pack.ts).
    await queue.sendBatch(packMessages(batch, MAX_MESSAGE_BYTES));
    // The queue holds them now; only now may the rows go. They are the oldest rows, and seq only
    // grows (autoincrement, one writer), so "up to the last one sent" names exactly them.
    sql.exec("delete from outbox where seq <= ?", batch[batch.length - 1]?.seq ?? 0);
    sent += batch.length;
    // A batch that was not full left nothing behind when it was read: done, with no count query.
    // (Rows committed while it was being sent are the relay's business: it drains once more.)
    if (!full) return { sent, remaining: 0, ...(oldest ? { oldest } : {}) };
  }
  const remaining = sql.exec<{ n: number }>("select count(*) as n from outbox").one().n;
  return { sent, remaining, ...(oldest ? { oldest } : {}) };
}

/** What one drain did: rows sent, rows left by its bounds, and the `created_at` of the oldest row it sent. */
export interface DrainResult {
  sent: number;
  remaining: number;
  oldest?: string;
}
