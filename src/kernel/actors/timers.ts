/**
 * An actor's timers: many scheduled messages multiplexed over the object's one
 * alarm. Each is a row in the actor's SQLite storage, so a timer survives
 * eviction and restarts; the alarm is kept at the earliest row's time. A row
 * is deleted only after its handler succeeded, so a timer fires at least once
 * (a crash mid-handler leaves it for the next alarm).
 */
import { newId } from "../crypto/tokens";

/** The timers table (the actor base's own schema track). */
export const TIMERS_SCHEMA: readonly string[][] = [
  [
    `create table actor_timers (
       id text primary key,
       key text unique,
       at integer not null,
       message text not null,
       attempts integer not null default 0
     )`,
    "create index actor_timers_at on actor_timers (at)",
  ],
];

/** A stored timer. */
export interface TimerRow {
  id: string;
  key: string | null;
  at: number;
  message: string;
  attempts: number;
}

/**
 * How a keyed timer meets an existing one of the same key: `replace` it
 * (default), or keep whichever fires `earliest` (a "wake me by then" timer
 * scheduled from many places).
 */
export type ScheduleMode = "replace" | "earliest";

/**
 * Stores a timer; returns its id. A keyed timer replaces the key's earlier
 * row under a new id, so a handler that reschedules its own key is not
 * undone when the fired row is deleted after it.
 */
export function putTimer(
  sql: SqlStorage,
  message: string,
  at: number,
  options: { key?: string; mode?: ScheduleMode; now: number },
): string {
  const id = newId(options.now);
  const when = Math.max(Math.trunc(at), 0);
  if (options.key === undefined) {
    sql.exec("insert into actor_timers (id, key, at, message) values (?, null, ?, ?)", id, when, message);
    return id;
  }
  const guard = options.mode === "earliest" ? "where excluded.at < actor_timers.at" : "";
  sql.exec(
    `insert into actor_timers (id, key, at, message) values (?, ?, ?, ?)
     on conflict (key) do update set id = excluded.id, at = excluded.at, message = excluded.message, attempts = 0 ${guard}`,
    id,
    options.key,
    when,
    message,
  );
  return sql.exec<{ id: string }>("select id from actor_timers where key = ?", options.key).one().id;
}

/** Removes the timer of `key`; whether there was one. */
export function deleteTimerKey(sql: SqlStorage, key: string): boolean {
  return sql.exec("delete from actor_timers where key = ?", key).rowsWritten > 0;
}

/** The keys of the pending timers whose key starts with `prefix`. */
export function timerKeys(sql: SqlStorage, prefix: string): string[] {
  return sql
    .exec<{ key: string }>("select key from actor_timers where substr(key, 1, ?) = ?", prefix.length, prefix)
    .toArray()
    .map((r) => r.key);
}

/** Removes one fired timer by id (a rescheduled key has a new id, and stays). */
export function deleteTimer(sql: SqlStorage, id: string): void {
  sql.exec("delete from actor_timers where id = ?", id);
}

/** The timers due at `now`, oldest first. */
export function dueTimers(sql: SqlStorage, now: number, limit: number): TimerRow[] {
  return sql
    .exec<TimerRow & Record<string, SqlStorageValue>>(
      "select id, key, at, message, attempts from actor_timers where at <= ? order by at, id limit ?",
      now,
      limit,
    )
    .toArray();
}

/** When the next timer fires, or null when none is stored. */
export function nextTimerAt(sql: SqlStorage): number | null {
  return sql.exec<{ at: number | null }>("select min(at) as at from actor_timers").one().at;
}

/** The time of the timer of `key`, or null. */
export function timerAt(sql: SqlStorage, key: string): number | null {
  return sql.exec<{ at: number }>("select at from actor_timers where key = ?", key).toArray()[0]?.at ?? null;
}

/** Moves a failed timer to `at` and counts the attempt. */
export function retryTimer(sql: SqlStorage, id: string, at: number): void {
  sql.exec("update actor_timers set at = ?, attempts = attempts + 1 where id = ?", Math.trunc(at), id);
}
