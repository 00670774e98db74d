/**
 * The WebhookEndpoint's storage: its queue of messages (one delivery each,
 * in `position` order), each attempt, and the log views of both. Pure
 * functions over the object's SQL handle; the actor decides what to write.
 */
import type { DeliveryView, OutgoingMessage } from "./contract";
import type { AttemptOutcome, NextStep } from "./domain";

/** The endpoint actor's migrations: its queue of messages (deliveries) and their attempts. */
export const DELIVERIES_SCHEMA: readonly string[][] = [
  [
    `create table deliveries (
       id text primary key,
       message_id text not null unique,
       event_type text not null,
       body text not null,
       occurred_at text not null,
       position integer not null,
       status text not null,
       attempts integer not null default 0,
       first_attempt_at integer,
       next_attempt_at integer,
       response_status integer,
       latency_ms integer,
       last_error text,
       created_at text not null,
       updated_at text not null
     )`,
    "create index deliveries_queue on deliveries (status, position)",
    "create index deliveries_position on deliveries (position)",
    `create table attempts (
       id integer primary key autoincrement,
       delivery_id text not null,
       at text not null,
       outcome text not null,
       response_status integer,
       latency_ms integer not null,
       response text
     )`,
    "create index attempts_delivery on attempts (delivery_id, id)",
  ],
  // How an attempt was sent when not as one plain send (attempt.ts: a second send after a lost connection).
  ["alter table attempts add column note text"],
];

/** A delivery as stored. */
export interface DeliveryRow extends Record<string, SqlStorageValue> {
  id: string;
  message_id: string;
  event_type: string;
  body: string;
  occurred_at: string;
  position: number;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  first_attempt_at: number | null;
  next_attempt_at: number | null;
  response_status: number | null;
  latency_ms: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/** An epoch-ms time as RFC 3339, or null. */
export const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Queues a message at `position`, due now; false when its id is queued already (a redelivered batch). */
export function insertDelivery(sql: SqlStorage, m: OutgoingMessage, position: number, now: number): boolean {
  const at = new Date(now).toISOString();
  return (
    sql.exec(
      `insert into deliveries (id, message_id, event_type, body, occurred_at, position, status, next_attempt_at, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) on conflict (message_id) do nothing`,
      crypto.randomUUID(),
      m.message_id,
      m.type,
      m.body,
      m.occurred_at,
      position,
      now,
      at,
      at,
    ).rowsWritten > 0
  );
}

/** The oldest pending delivery: the one the endpoint tries next. */
export const headDelivery = (sql: SqlStorage): DeliveryRow | undefined =>
  sql.exec<DeliveryRow>("select * from deliveries where status = 'pending' order by position limit 1").toArray()[0];

export const readDelivery = (sql: SqlStorage, id: string): DeliveryRow | undefined =>
  sql.exec<DeliveryRow>("select * from deliveries where id = ?", id).toArray()[0];

export const pendingCount = (sql: SqlStorage): number =>
  sql.exec<{ n: number }>("select count(*) as n from deliveries where status = 'pending'").one().n;

/**
 * A page of the log, latest queued first (by queue position: a redelivered delivery is queued
 * again, so it moves to the top); the cursor is the last item's position.
 */
export function pageDeliveries(
  sql: SqlStorage,
  limit: number,
  cursor: string | null,
  status: DeliveryRow["status"] | null,
): { items: DeliveryView[]; next: string | null } {
  const before = cursor === null ? Number.MAX_SAFE_INTEGER : Number(cursor);
  const rows = sql
    .exec<DeliveryRow>(
      "select * from deliveries where position < ? and (? is null or status = ?) order by position desc limit ?",
      Number.isFinite(before) ? before : 0,
      status,
      status,
      limit + 1,
    )
    .toArray();
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(deliveryView), next: rows.length > limit && last ? String(last.position) : null };
}

/** A delivery's attempts, oldest first; `note` only on those that have one. */
export const attemptLog = (sql: SqlStorage, deliveryId: string) =>
  sql
    .exec<{
      at: string;
      outcome: AttemptOutcome["kind"];
      response_status: number | null;
      latency_ms: number;
      response: string | null;
      note: string | null;
    }>(
      "select at, outcome, response_status, latency_ms, response, note from attempts where delivery_id = ? order by id",
      deliveryId,
    )
    .toArray()
    .map(({ note, ...attempt }) => (note === null ? attempt : { ...attempt, note }));

/**
 * Records an attempt of `head` and what follows it: delivered (no `step`),
 * tried again at `step.retryAt`, or given up (failed).
 */
export function writeAttempt(
  sql: SqlStorage,
  head: DeliveryRow,
  outcome: AttemptOutcome,
  step: NextStep | null,
  now: number,
): void {
  const at = new Date(now).toISOString();
  const status = "status" in outcome ? outcome.status : null;
  sql.exec(
    "insert into attempts (delivery_id, at, outcome, response_status, latency_ms, response, note) values (?, ?, ?, ?, ?, ?, ?)",
    head.id,
    at,
    outcome.kind,
    status,
    outcome.latencyMs,
    "response" in outcome ? outcome.response : outcome.error,
    ("note" in outcome ? outcome.note : undefined) ?? null,
  );
  const state: DeliveryRow["status"] = step === null ? "delivered" : "retryAt" in step ? "pending" : "failed";
  const next = step !== null && "retryAt" in step ? step.retryAt : null;
  const error =
    outcome.kind === "delivered" ? null : outcome.kind === "rejected" ? `HTTP ${outcome.status}` : outcome.error;
  sql.exec(
    `update deliveries set status = ?, attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, ?),
       next_attempt_at = ?, response_status = ?, latency_ms = ?, last_error = ?, updated_at = ? where id = ?`,
    state,
    now,
    next,
    status,
    outcome.latencyMs,
    error,
    at,
    head.id,
  );
}

/** Puts a finished delivery back in the queue, at `position`, due now, with a fresh schedule. */
export function requeueDelivery(sql: SqlStorage, id: string, position: number, now: number): void {
  sql.exec(
    `update deliveries set status = 'pending', position = ?, attempts = 0, first_attempt_at = null,
       next_attempt_at = ?, updated_at = ? where id = ?`,
    position,
    now,
    new Date(now).toISOString(),
    id,
  );
}

/**
 * Puts up to `limit` failed deliveries back in the queue, oldest queued first so they keep their
 * order, each at the next of `positions`; with `since` (epoch ms) only those given up from then
 * on. Answers how many went back and how many failed ones (of `since`) remain for another call.
 */
export function requeueFailed(
  sql: SqlStorage,
  options: { since: number | null; limit: number; now: number },
  positions: () => number,
): { requeued: number; remaining: number } {
  const since = options.since === null ? null : new Date(options.since).toISOString();
  // Given up is the last write of a failed row: its updated_at is when that happened.
  const failed = "status = 'failed' and (? is null or updated_at >= ?)";
  const ids = sql
    .exec<{ id: string }>(
      `select id from deliveries where ${failed} order by position limit ?`,
      since,
      since,
      options.limit,
    )
    .toArray();
  for (const { id } of ids) requeueDelivery(sql, id, positions(), options.now);
  const remaining = sql
    .exec<{ n: number }>(`select count(*) as n from deliveries where ${failed}`, since, since)
    .one().n;
  return { requeued: ids.length, remaining };
}

/** Keeps the `keep` latest queued finished deliveries (and every pending one); returns the rows left. */
export function pruneLog(sql: SqlStorage, keep: number): number {
  const cutoff = sql
    .exec<{ position: number }>(
      "select position from deliveries where status != 'pending' order by position desc limit 1 offset ?",
      keep,
    )
    .toArray()[0]?.position;
  if (cutoff !== undefined) {
    sql.exec(
      "delete from attempts where delivery_id in (select id from deliveries where status != 'pending' and position <= ?)",
      cutoff,
    );
    sql.exec("delete from deliveries where status != 'pending' and position <= ?", cutoff);
  }
  return sql.exec<{ n: number }>("select count(*) as n from deliveries").one().n;
}

/** The event types of the deliveries kept (queued or in the log), but `except`'s, sorted. */
export function keptTypes(sql: SqlStorage, except: string): string[] {
  return sql
    .exec<{ t: string }>("select distinct event_type as t from deliveries where event_type != ? order by t", except)
    .toArray()
    .map((r) => r.t);
}

/** Forgets every delivery and attempt (a deleted endpoint). */
export function clearDeliveries(sql: SqlStorage): void {
  sql.exec("delete from deliveries");
  sql.exec("delete from attempts");
}

/** A delivery as the log shows it. */
export function deliveryView(r: DeliveryRow): DeliveryView {
  return {
    id: r.id,
    message_id: r.message_id,
    event_type: r.event_type,
    status: r.status,
    attempts: r.attempts,
    response_status: r.response_status,
    latency_ms: r.latency_ms,
    last_error: r.last_error,
    next_attempt_at: isoOrNull(r.next_attempt_at),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}
