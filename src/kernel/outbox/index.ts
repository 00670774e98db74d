/**
 * The transactional outbox of a Durable Object writer: events are inserted in
 * the same SQLite transaction as the state change that caused them, so a
 * commit has both or neither. The drain to the EVENTS queue reads them in
 * `seq` order and deletes what the queue accepted.
 */

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

/** Who caused an event. */
export interface Actor {
  kind: "user" | "api_key" | "platform" | "system" | "anonymous";
  id: string | null;
}

/** A JSON value: what event payloads are made of (and what crosses DO RPC). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The envelope every plinth event travels in. */
export interface DomainEvent<T extends Record<string, Json> = Record<string, Json>> {
  id: string;
  type: string;
  tenant_id: string;
  stream: string;
  version: number;
  occurred_at: string;
  actor: Actor;
  data: T;
  request_id: string | null;
  /** Keyed hash of the client's IP address (kernel/http/client-ip.ts), for the audit log. */
  ip_hash?: string | null;
  /**
   * What the audit log records of this event beyond its actor and target: a
   * few short facts the writer chose (a denied permission, a revoked key's
   * cause), never personal data or a payload.
   */
  audit?: Record<string, Json>;
}

/** Appends one event to the outbox. Must run inside the caller's transaction. */
export function appendOutbox(sql: SqlStorage, event: DomainEvent): void {
  sql.exec(
    "insert into outbox (id, type, event, created_at) values (?, ?, ?, ?)",
    event.id,
    event.type,
    JSON.stringify(event),
    event.occurred_at,
  );
}

/** The oldest pending events, for the drain and for tests. */
export function pendingOutbox(sql: SqlStorage, limit = 100): DomainEvent[] {
  return sql
    .exec<{ event: string }>("select event from outbox order by seq limit ?", limit)
    .toArray()
    .map((r) => JSON.parse(r.event) as DomainEvent);
}
