import type { z } from "zod";
import type { Logger } from "../log";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";
import { deleteTimer, type TimerRow } from "./timers";

/** A stored timer's message, parsed, or why no handler can run it. */
export type ReadTimer<M> = { ok: true; message: M } | { ok: false; why: string };

/**
 * Reads a stored timer's message with the actor's `timerMessage`: a timer can outlive the
 * deployment that scheduled it, so what it carries is checked, not trusted. Not runnable, it is
 * dropped (the actor's `fire`), since retrying cannot help: an actor that declares no timers has
 * no handler (the timer was stored by an older version of the class that had timers, or by hand),
 * and a message whose JSON is corrupt, or of a shape this deployment no longer takes, never parses.
 * `why` is the line the drop logs.
 *
 * @example
 * readTimerMessage('{"note":"a"}', z.object({ note: z.string() })); // { ok: true, message: { note: "a" } }
 * readTimerMessage("{", z.object({ note: z.string() })); // { ok: false, why: "timer message unreadable; dropped" }
 */
export function readTimerMessage<M>(text: string, schema: z.ZodType<M> | undefined): ReadTimer<M> {
  if (!schema) return { ok: false, why: "timer fired on an actor that declares no timers; dropped" };
  const parsed = schema.safeParse(safeJson(text));
  return parsed.success ? { ok: true, message: parsed.data } : { ok: false, why: "timer message unreadable; dropped" };
}

/**
 * A stored timer's message as JSON, or undefined when it is none, which an object `timerMessage`
 * refuses. Not storedJson: there is nothing to throw to, and V8's SyntaxError, which quotes the
 * text, is dropped here rather than carried anywhere.
 */
function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Drops a timer no handler can run: counted and logged once at error, by id and key, without
 * the message (it may hold data); not a failure for supervision, since retrying cannot help.
 * The key goes out as `timer_name`: a field named `key` is a secret's name to the logger, which masked it.
 */
export function dropTimer(sql: SqlStorage, timer: TimerRow, why: string, by: { actor: string; log: Logger }): void {
  deleteTimer(sql, timer.id);
  isolateRecorder.inc(METRICS.actorFailures, [by.actor, "timer"]);
  by.log.error(why, { timer_id: timer.id, timer_name: timer.key });
}
