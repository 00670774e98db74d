/**
 * The transactional outbox of a Durable Object writer: events are inserted in
 * the same SQLite transaction as the state change that caused them, so a
 * commit has both or neither. The drain to the EVENTS queue reads them in
 * `seq` order and deletes what the queue accepted.
 */

import { storedJson } from "../db/stored-json";
import { type Envelope, EnvelopeSchema, type OutgoingEvent } from "../events/envelope";
import { assertEventFits } from "./limits";

export { EventTooLargeError, MAX_EVENT_BYTES } from "./limits";

/** Statements creating the outbox table; include them in the writer's schema. */
export const OUTBOX_SCHEMA = [
  `create table outbox (
     seq integer primary key autoincrement,
     id text not null unique,
     type text not null,
     event text not null,
     created_at text not null
   )`,
];

/**
 * Appends one event to the outbox. Must run inside the caller's transaction.
 * `json` is the event already serialised, when the caller has it (an aggregate
 * stores the same text in its event log). Throws {@link EventTooLargeError},
 * before writing, for an event no queue message can carry: the caller's
 * transaction then rolls back, instead of committing a row that would stop the
 * object's outbox (and every later event of it) for good.
 */
export function appendOutbox(sql: SqlStorage, event: OutgoingEvent, json = JSON.stringify(event)): void {
  assertEventFits(event.type, json);
  sql.exec(
    "insert into outbox (id, type, event, created_at) values (?, ?, ?, ?)",
    event.id,
    event.type,
    json,
    event.occurred_at,
  );
}

/** The oldest pending events, for the drain and for tests. */
export function pendingOutbox(sql: SqlStorage, limit = 100): Envelope[] {
  return sql
    .exec<{ seq: number; event: string }>("select seq, event from outbox order by seq limit ?", limit)
    .toArray()
    .map((r) => EnvelopeSchema.parse(storedJson(r.event, `outbox row seq ${r.seq}`)));
}
