/**
 * An actor's one alarm, kept on its earliest timer and no earlier than the end
 * of a pause: what it was last set to, and whether a write may have moved the
 * earliest timer, so that a commit sets it only when it may be wrong. The
 * Actor base (actor.ts) owns one and tells it what happened.
 *
 * While an alarm handler runs, the alarm is never set to a time at or before
 * the handler's start: workerd takes an alarm set to the running alarm's own
 * time for that alarm and deletes it when the handler returns, though getAlarm
 * still answers it (docs/actors.md, "The alarm a handler sets"). A timer
 * scheduled for now, in the millisecond the alarm fired, then never ran.
 * And an alarm found long overdue by a commit is set again ({@link ALARM_OVERDUE_MS}).
 */
import { nextTimerAt } from "./timers";

/**
 * How long past its time an alarm this object set may stay unrun before the next commit sets
 * it again: a runtime that lost it (as above, or any other way) does not stall the actor for
 * good once a message comes. Well beyond the runtime's own lateness.
 */
export const ALARM_OVERDUE_MS = 30_000;

/** One actor's alarm: see the file's header. */
export class TimerAlarm {
  /** The alarm as this object last set it: a time, none (null), or unknown (undefined). */
  private armed: number | null | undefined = undefined;
  /** Set by writes that may move the earliest timer; the next commit re-arms the alarm. */
  private timersChanged = false;
  /** While an alarm handler runs, its start (clock ms, no earlier than the alarm's time); else null. */
  private running: number | null = null;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** A write may have moved the earliest timer. */
  changed(): void {
    this.timersChanged = true;
  }

  /** The alarm fired at `now`: it is spent, and whatever ran, the next one is set after. */
  fired(now: number): void {
    this.armed = null;
    this.timersChanged = true;
    this.running = now;
  }

  /** The alarm handler returned: a time already past is set as it is again. */
  settled(): void {
    this.running = null;
  }

  /** Whether an alarm handler is running (a timer of it may be awaiting, its row already gone). */
  busy(): boolean {
    return this.running !== null;
  }

  /** The storage was wiped: the alarm is unknown until set again. */
  forget(): void {
    this.armed = undefined;
  }

  /**
   * After a commit at `now` (`paused`: the supervision's pause end, or null): re-arms when a timer
   * may have moved, the alarm is unknown, or it is overdue; answers how overdue (ms), else null.
   */
  async follow(paused: number | null, now: number): Promise<number | null> {
    const overdue = this.overdue(now);
    if (overdue !== null) {
      // Set again, at a time it cannot already hold (a lost alarm's own time is kept, not fired).
      this.armed = undefined;
      await this.rearm(paused, now);
    } else if (this.timersChanged || this.armed === undefined) await this.rearm(paused);
    return overdue;
  }

  /**
   * Sets the alarm to the earliest timer (no earlier than the end of a pause, nor than `floor`),
   * or deletes it.
   */
  async rearm(paused: number | null, floor: number | null = null): Promise<void> {
    this.timersChanged = false;
    let next = nextTimerAt(this.storage.sql);
    if (next !== null && paused !== null && paused > next) next = paused;
    // Due already: a millisecond after the handler's start, so never the running alarm's time.
    const least = this.running === null ? floor : Math.max(this.running + 1, floor ?? 0);
    if (next !== null && least !== null && next < least) next = least;
    if (next === this.armed) return;
    // Forget it first: if the write fails, the next commit sets it again.
    this.armed = undefined;
    if (next === null) await this.storage.deleteAlarm();
    else await this.storage.setAlarm(next);
    this.armed = next;
  }

  /** How long past its time the alarm this object set is, unrun, beyond {@link ALARM_OVERDUE_MS}; else null. */
  private overdue(now: number): number | null {
    // While a handler runs, an alarm set meanwhile waits for it to end: late, not lost.
    if (this.running !== null || typeof this.armed !== "number") return null;
    const late = now - this.armed;
    return late > ALARM_OVERDUE_MS ? late : null;
  }
}
