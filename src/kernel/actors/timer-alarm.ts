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
 */
import { nextTimerAt } from "./timers";

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

  /** The storage was wiped: the alarm is unknown until set again. */
  forget(): void {
    this.armed = undefined;
  }

  /** After a commit (`paused`: the supervision's pause end, or null): re-arms when a timer may have moved or the alarm is unknown. */
  async follow(paused: number | null): Promise<void> {
    if (this.timersChanged || this.armed === undefined) await this.rearm(paused);
  }

  /** Sets the alarm to the earliest timer (no earlier than the end of a pause), or deletes it. */
  async rearm(paused: number | null): Promise<void> {
    this.timersChanged = false;
    let next = nextTimerAt(this.storage.sql);
    if (next !== null && paused !== null && paused > next) next = paused;
    // Due already: a millisecond after the handler's start, so never the running alarm's time.
    if (next !== null && this.running !== null && next <= this.running) next = this.running + 1;
    if (next === this.armed) return;
    // Forget it first: if the write fails, the next commit sets it again.
    this.armed = undefined;
    if (next === null) await this.storage.deleteAlarm();
    else await this.storage.setAlarm(next);
    this.armed = next;
  }
}
