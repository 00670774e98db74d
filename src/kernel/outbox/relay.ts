/**
 * The outbox relay: when a Durable Object's drains run (after each commit,
 * paced when asked, and from its alarm as safety net and for retries with
 * backoff), so that two drains of one object never send a row twice.
 * What one drain does is drain.ts's.
 *
 * While its onAlarm runs, the relay never sets the alarm to a time at or before
 * that handler's start: workerd takes an alarm set to the running alarm's own
 * time for that alarm and deletes it when the handler returns (docs/actors.md,
 * "The alarm a handler sets"), and rows a drain left would wait for a commit.
 */
import type { Clock } from "../clock";
import { isErased } from "../durable/tombstone";
import { createLogger, errorFields, type Logger } from "../log";
import { METRICS } from "../metrics/catalog";
import { isolateRecorder } from "../metrics/recorder";
import { Pacer } from "../resilience/pace";
import type { Sleeper } from "../resilience/sleep";
import { inSpan } from "../telemetry";
import { type DrainOptions, type DrainResult, drainOutbox, type OutboxQueue } from "./drain";

/** Delay before the n-th consecutive retry of a failed drain: 1 s, 2 s, 4 s … capped at 5 min. */
export function relayBackoffMs(attempt: number): number {
  return Math.min(1000 * 2 ** Math.max(attempt - 1, 0), 300_000);
}

/** What a relay run did: sent and left rows, or failed and when it retries. */
export type RelayOutcome =
  | { ok: true; sent: number; remaining: number }
  | { ok: false; attempt: number; retryInMs: number };

/**
 * How long after a drain starts its safety-net alarm fires, when no failure is
 * pending: it matters only if the isolate dies mid-drain (the next commit would
 * drain anyway), so it can wait; a short one would wake every busy object
 * about once a second for nothing.
 */
export const SAFETY_NET_MS = 30_000;

/**
 * Where a relay keeps its one wake-up time. By default the object's own alarm;
 * an object that multiplexes several timers over its alarm (an actor,
 * kernel/actors) hands in a port onto one of its timers instead.
 */
export interface AlarmPort {
  get(): Promise<number | null> | number | null;
  set(at: number): Promise<void> | void;
}

const storageAlarm = (storage: DurableObjectStorage): AlarmPort => ({
  get: () => storage.getAlarm(),
  set: (at) => storage.setAlarm(at),
});

/** Options of an {@link OutboxRelay}. */
export interface OutboxRelayOptions extends DrainOptions {
  /** Where the relay's wake-up is kept; the object's alarm by default. */
  alarm?: AlarmPort;
  /** Where failures go; a JSON line on stderr by default. Never given event payloads. */
  log?: Pick<Logger, "error">;
  /**
   * When alarms fire and how drains are paced. Required: an object passes the clock it
   * was built with, so a test that moves the object's time moves its relay's too.
   */
  clock: Clock;
  /** The writer's class name, the `object` label of the outbox metrics. */
  object?: string;
  /**
   * Least time between the starts of two drains, in ms; 0 (the default) drains at once
   * after every commit. A busy writer that sets it sends at most one `sendBatch` per
   * `paceMs`, each carrying every commit since the last, instead of one per commit or two;
   * a commit after a quiet spell still leaves at once. Consumers see such a writer's
   * events up to `paceMs` later.
   */
  paceMs?: number;
  /** How the relay waits out its pace; real timers by default. */
  sleeper?: Sleeper;
}

/** Consecutive failed drains, in the object's own storage so backoff survives eviction. */
const ATTEMPTS_KEY = "outbox_relay.attempts";

/**
 * Moves a Durable Object's outbox to a queue: right after each commit, and
 * from the object's alarm as the safety net and for retries with backoff.
 * One relay per object (it owns the object's alarm); it guarantees that
 * concurrent drains in the object never send a row twice.
 *
 * Cheap per commit, because a busy object commits hundreds of times a second:
 * commits that land while a drain is sending are taken by that drain's next
 * pass (one `sendBatch` for all of them), and the safety-net alarm is set once
 * and left to fire rather than set and deleted around every drain. The relay
 * remembers the alarm it set, so it reads the alarm only once per object
 * lifetime; an alarm that fires with nothing left to send costs one query.
 *
 * @example
 * // in the DO: after a mutation's transaction commits
 * this.relay.afterCommit(this.ctx, this.env.EVENTS);
 * // and
 * async alarm() { await this.relay.onAlarm(this.env.EVENTS); }
 */
export class OutboxRelay {
  private running: Promise<RelayOutcome> | null = null;
  private rerun = false;
  /** The alarm this object has, as far as the relay knows: a time, none (null), or not read yet (undefined). */
  private armed: number | null | undefined = undefined;
  /** {@link ATTEMPTS_KEY}'s value, once read. */
  private failures: number | undefined = undefined;
  /**
   * Whether every row in the outbox has a drain or an alarm coming, as far as the relay
   * knows: false until it first looks in an object lifetime (the last one may have ended
   * between a commit and its alarm) and again when a failed drain's retry could not be
   * scheduled. While true, a commit that says it appended nothing costs no query.
   */
  private covered = false;
  /** While onAlarm runs, the handler's start (clock ms, no earlier than the alarm's time); else null. */
  private alarmStart: number | null = null;
  private readonly log: Pick<Logger, "error">;
  private readonly clock: Clock;
  private readonly alarm: AlarmPort;
  /** Spaces drains `paceMs` apart; commits meanwhile join the next drain (`running` is set). */
  private readonly pacer: Pacer;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly options: OutboxRelayOptions,
  ) {
    this.log = options.log ?? createLogger("error", { component: "outbox" });
    this.clock = options.clock;
    this.alarm = options.alarm ?? storageAlarm(storage);
    this.pacer = new Pacer(options.paceMs ?? 0, this.clock, options.sleeper);
  }

  /**
   * After a commit: joins the drain under way (which then runs once more), or
   * starts one in `ctx.waitUntil` when the outbox has rows; a no-op otherwise.
   * `appended` is how many rows the commit (or the commits since the writer last
   * said) put in the outbox, when the writer knows: above zero, the relay drains
   * without first asking SQLite whether there is anything to send; zero, it does
   * nothing, without asking either, once it has looked in this object lifetime
   * (rows an earlier commit left, a failed drain's among them, wait for their alarm).
   * One query less per command on a busy writer. Without it, the relay asks.
   */
  afterCommit(ctx: Pick<DurableObjectState, "waitUntil">, queue: OutboxQueue, appended?: number): void {
    if (appended !== undefined && appended <= 0 && this.covered) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    if ((appended ?? 0) <= 0 && !this.hasRows()) {
      this.covered = true;
      return;
    }
    // From here a drain runs, and its failures schedule their retry (or say they could not).
    this.covered = true;
    ctx.waitUntil(this.flush(queue));
  }

  /**
   * Makes sure an alarm is set (so rows still leave if the isolate dies
   * mid-drain), then drains. Never rejects.
   */
  async flush(queue: OutboxQueue): Promise<RelayOutcome> {
    try {
      await this.ensureAlarm();
    } catch (error) {
      this.log.error("outbox alarm could not be set", errorFields(error));
    }
    return this.drain(queue);
  }

  /** The object's `alarm()` handler: drains; on failure the next alarm is already set. Never rejects. */
  async onAlarm(queue: OutboxQueue): Promise<RelayOutcome> {
    // The alarm that fired is spent: the next flush sets a new one.
    this.armed = null;
    const start = this.at(0);
    this.alarmStart = start;
    try {
      return await this.drain(queue);
    } finally {
      if (this.alarmStart === start) this.alarmStart = null;
    }
  }

  /**
   * Drains now, or joins the drain already running (which then runs once more,
   * with its own queue, for rows committed since it read). On success the
   * attempt count resets and, when rows remain past the run's bound, the alarm
   * is set to fire at once (during onAlarm, a millisecond after its start); on
   * failure the alarm is set after the backoff. Never rejects.
   */
  drain(queue: OutboxQueue): Promise<RelayOutcome> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    this.running = this.run(queue);
    return this.running;
  }

  /**
   * The object's storage was emptied (an erasure, or vacate): the alarm it set and the failures it
   * counted went with it, so it reads them again, as at the start of an object lifetime.
   */
  forget(): void {
    this.armed = undefined;
    this.failures = undefined;
    this.covered = false;
  }

  /** Consecutive failed drains so far. */
  attempts(): number {
    this.failures ??= this.storage.kv.get<number>(ATTEMPTS_KEY) ?? 0;
    return this.failures;
  }

  private async run(queue: OutboxQueue): Promise<RelayOutcome> {
    // Every exit clears `running` in the same synchronous step as its last
    // `rerun` check, so a caller either joins before that check or starts anew.
    try {
      let sent = 0;
      for (;;) {
        await this.pacer.turn();
        this.rerun = false;
        let result: DrainResult;
        try {
          result = await inSpan("outbox.drain", {}, async (span) => {
            const r = await drainOutbox(this.storage, queue, this.options);
            span?.setAttributes({ "plinth.sent": r.sent, "plinth.remaining": r.remaining });
            return r;
          });
        } catch (error) {
          return await this.failed(error);
        }
        sent += result.sent;
        this.record(result);
        if (result.remaining > 0) await this.setAlarm(this.at(0));
        if (this.attempts() !== 0) {
          this.storage.kv.delete(ATTEMPTS_KEY);
          this.failures = 0;
        }
        if (result.remaining > 0 || !this.rerun) return { ok: true, sent, remaining: result.remaining };
      }
    } catch (error) {
      return await this.failed(error);
    } finally {
      this.running = null;
    }
  }

  /** The drain's metrics: rows sent, and how long the oldest of them waited since its commit. */
  private record(result: DrainResult): void {
    if (result.sent === 0) return;
    const object = this.options.object ?? "unknown";
    isolateRecorder.inc(METRICS.outboxSent, [object], result.sent);
    if (result.oldest) {
      const lag = (this.clock.now().getTime() - Date.parse(result.oldest)) / 1000;
      isolateRecorder.observe(METRICS.outboxLag, [object], Math.max(lag, 0));
    }
  }

  private async failed(error: unknown): Promise<RelayOutcome> {
    // Its tenant's erasure emptied the object mid-drain (the outbox went with the rest): nothing is
    // left to send, and a retry count or alarm written now would outlive the erasure.
    if (isErased(this.storage.kv)) return { ok: true, sent: 0, remaining: 0 };
    isolateRecorder.inc(METRICS.outboxDrainFailures, [this.options.object ?? "unknown"]);
    let attempt = 1;
    let retryInMs = relayBackoffMs(attempt);
    try {
      attempt = this.attempts() + 1;
      retryInMs = relayBackoffMs(attempt);
      this.storage.kv.put(ATTEMPTS_KEY, attempt);
      this.failures = attempt;
      await this.setAlarm(this.at(retryInMs));
    } catch (storageError) {
      // Its rows have no alarm coming: the next commit looks for them, whatever it appended.
      this.covered = false;
      this.log.error("outbox retry could not be scheduled", errorFields(storageError));
    }
    this.log.error("outbox drain failed", {
      attempt,
      retry_in_ms: retryInMs,
      pending: this.pending(),
      ...errorFields(error),
    });
    return { ok: false, attempt, retryInMs };
  }

  /** Sets the safety-net alarm unless one is set; reads the alarm only when it does not know it. */
  private async ensureAlarm(): Promise<void> {
    if (this.armed === undefined) this.armed = await this.alarm.get();
    if (this.armed === null) {
      const failing = this.attempts();
      await this.setAlarm(this.at(failing > 0 ? relayBackoffMs(failing + 1) : SAFETY_NET_MS));
    }
  }

  private async setAlarm(at: number): Promise<void> {
    // Due already, in the object's alarm handler: a millisecond after its start, never the running alarm's time.
    if (this.alarmStart !== null && at <= this.alarmStart) at = this.alarmStart + 1;
    // Forget it first: if setting fails, the next flush reads the alarm again.
    this.armed = undefined;
    await this.alarm.set(at);
    this.armed = at;
  }

  /** The alarm time `ms` from now. */
  private at(ms: number): number {
    return this.clock.now().getTime() + ms;
  }

  private hasRows(): boolean {
    try {
      return this.storage.sql.exec<{ e: number }>("select exists(select 1 from outbox) as e").one().e === 1;
    } catch {
      // Unreadable outbox: let the drain fail, log and schedule its retry.
      return true;
    }
  }

  /** Rows waiting, or -1 when the outbox cannot be read (the failure is logged by the caller). */
  private pending(): number {
    try {
      return this.storage.sql.exec<{ n: number }>("select count(*) as n from outbox").one().n;
    } catch {
      return -1;
    }
  }
}
