import { DurableObject } from "cloudflare:workers";
import type { Clock } from "../clock";
import { EraseRpc, WrongTenant, wipeStorage } from "../durable/erase";
import { type RpcArgs, type RpcReply, rpcArgs } from "../durable/rpc";
import { migrateSqlite } from "../durable/sqlite-schema";
import type { OutgoingEvent } from "../events/envelope";
import { PingRpc, PONG } from "../health/contract";
import { createLogger, errorFields, type Logger } from "../log";
import { METRICS } from "../metrics/catalog";
import { isolateMetrics } from "../metrics/flush";
import { isolateRecorder } from "../metrics/recorder";
import { OUTBOX_SCHEMA } from "../outbox";
import { type AlarmPort, OutboxRelay } from "../outbox/relay";
import { type BackoffPolicy, backoffDelay } from "../resilience/backoff";
import { CountedTransactions } from "./counted-tx";
import { type ActorEvent, appendActorEvent, STREAMS_SCHEMA } from "./events";
import { type ActorAddress, ActorBackingOff, type ActorOptions, DEFAULT_TIMER_RETRY } from "./options";
import {
  DEFAULT_SUPERVISION,
  escalationEvent,
  initialSupervision,
  isPaused,
  recordFailure,
  recordSuccess,
  restartDue,
  type SupervisionState,
} from "./supervision";
import {
  deleteTimer,
  deleteTimerKey,
  dueTimers,
  nextTimerAt,
  putTimer,
  retryTimer,
  type ScheduleMode,
  TIMERS_SCHEMA,
  type TimerRow,
  timerAt,
} from "./timers";

const BASE_TRACK = "_actor_schema";
const SUPERVISION_KEY = "actor.supervision";
/** Kept under the key the first per-tenant actors used, so their stored binding still reads. */
const TENANT_KEY = "tenant_id";
/** The relay's wake-up, one of the actor's timers. */
const RELAY_TIMER = "__outbox_relay";
/** Timers run per alarm, so one alarm invocation stays bounded; the rest run on the next, set at once. */
const TIMERS_PER_ALARM = 50;
const BASE_SCHEMA: readonly string[][] = [[...(TIMERS_SCHEMA[0] ?? []), ...OUTBOX_SCHEMA, STREAMS_SCHEMA]];

/**
 * A small actor base over a SQLite-backed Durable Object. See docs/actors.md.
 *
 * - **Messages** are the subclass's RPC methods (typed by an `RpcContract`),
 *   each of which runs its body through {@link receive}: the object's input
 *   gate delivers them one at a time, and the body runs in one storage
 *   transaction, so a handler that throws leaves nothing it wrote behind.
 * - **Timers**: {@link schedule} stores a message to be handled by
 *   {@link onTimer} at a time; any number per actor, multiplexed over the one
 *   alarm, persisted (they survive eviction), fired at least once.
 * - **Supervision**: every throw is counted; `maxFailures` inside the window
 *   pause the actor (callers get {@link ActorBackingOff}) for an exponentially
 *   growing time, after which it restarts from storage ({@link onStart} runs
 *   again) and an `actor.escalated` event goes to its outbox.
 * - **Outbox**: {@link emit} appends an event in the handler's transaction;
 *   after the commit the relay sends it to the EVENTS queue, its retries and
 *   safety net being one more timer.
 */
export abstract class Actor<M> extends DurableObject<Env> {
  protected readonly clock: Clock;
  protected readonly log: Logger;
  private readonly relay: OutboxRelay;
  private readonly options: ActorOptions<M>;
  private supervision: SupervisionState = initialSupervision();
  private started = false;
  /** The alarm as this object last set it: a time, none (null), or unknown (undefined). */
  private armed: number | null | undefined = undefined;
  /** {@link boundTenant}'s memo. */
  private tenant: string | null = null;
  /** Set by writes that may move the earliest timer; the next commit re-arms the alarm. */
  private timersChanged = false;
  /** The object's transactions, counting what {@link emit} appended once it committed. */
  private readonly tx: CountedTransactions;

  constructor(ctx: DurableObjectState, env: Env, options: ActorOptions<M>) {
    super(ctx, env);
    this.options = options;
    this.clock = options.clock;
    this.log = createLogger("warn", { component: "actor", actor: options.name });
    this.tx = new CountedTransactions(ctx.storage, options.name);
    const port: AlarmPort = {
      get: () => timerAt(this.ctx.storage.sql, RELAY_TIMER),
      set: async (at) => {
        putTimer(this.ctx.storage.sql, "null", at, { key: RELAY_TIMER, now: this.now() });
        await this.rearm();
      },
    };
    this.relay = new OutboxRelay(ctx.storage, { object: options.name, clock: options.clock, alarm: port });
  }

  /** Readiness (kernel/health/contract.ts): answers without reading or writing data. */
  ping(input: RpcArgs<typeof PingRpc, "ping">): RpcReply<typeof PingRpc, "ping"> {
    rpcArgs(PingRpc, "ping", input);
    return PONG;
  }

  /**
   * Loads what the subclass keeps in memory from storage: called before the
   * first message or timer, and again on every restart after a backoff (so a
   * cache that a failing handler may have left wrong is rebuilt).
   */
  protected onStart(): void {}

  /** Handles a due timer's message. Throwing counts as a failure and fires the timer again later. */
  protected abstract onTimer(message: M, timer: { attempts: number; at: number }): Promise<void> | void;

  /** The clock's time, epoch ms. */
  protected now(): number {
    return this.clock.now().getTime();
  }

  /**
   * Runs one message: refuses while the actor is paused, runs `fn` in one
   * storage transaction (rolled back if it throws), counts a throw for
   * supervision, then re-arms the alarm and sends new outbox rows.
   *
   * @example
   * // in an RPC method: one message, one transaction (schedule answers the timer's id)
   * return this.receive("enqueue", () => ({ timer: this.schedule({ kind: "deliver" }, this.now()) }));
   */
  protected async receive<T>(handler: string, fn: () => T): Promise<T> {
    this.ready();
    this.admit();
    let result: T;
    try {
      result = this.tx.run(fn);
    } catch (error) {
      await this.failed(handler, error);
      throw error;
    }
    this.succeeded();
    await this.afterCommit();
    return result;
  }

  /**
   * Runs `fn` in one storage transaction, for the writes of an async timer
   * handler between its awaits (a transaction cannot span an await).
   */
  protected transact<T>(fn: () => T): T {
    this.ready();
    return this.tx.run(fn);
  }

  /**
   * Schedules `message` for {@link onTimer} at `at` (epoch ms; past times fire
   * at the next alarm). With a `key`, the timer replaces the key's pending one
   * (or, with `mode: "earliest"`, keeps whichever fires first). Call inside a
   * handler or {@link transact}: the alarm is re-armed after the commit.
   */
  protected schedule(message: M, at: number, options: { key?: string; mode?: ScheduleMode } = {}): string {
    if (options.key === RELAY_TIMER) throw new Error("reserved timer key");
    this.timersChanged = true;
    return putTimer(this.ctx.storage.sql, JSON.stringify(message), at, { ...options, now: this.now() });
  }

  /** Cancels the pending timer of `key`; whether there was one. */
  protected cancel(key: string): boolean {
    this.timersChanged = true;
    return deleteTimerKey(this.ctx.storage.sql, key);
  }

  /**
   * Appends an event to the actor's outbox, in the running transaction; its
   * version counts the events of its stream from 1.
   */
  protected emit(address: ActorAddress, event: ActorEvent): OutgoingEvent {
    this.tx.appended();
    return appendActorEvent(this.ctx.storage.sql, address, event, this.now(), this.options.name);
  }

  /**
   * Where the actor's escalation events go; null (the default) logs them only.
   * An actor that knows its tenant returns it.
   */
  protected escalationAddress(): ActorAddress | null {
    return null;
  }

  /** Runs the due timers (and the relay's), restarting first when a backoff has ended. */
  override async alarm(): Promise<void> {
    this.ready();
    // The alarm that fired is spent: whatever ran, the next one is set after.
    this.armed = null;
    this.timersChanged = true;
    try {
      if (!isPaused(this.supervision, this.now())) {
        if (restartDue(this.supervision, this.now())) this.restart();
        await this.runDue();
      }
    } finally {
      await this.afterCommit();
    }
  }

  /**
   * The tenant an actor named by a tenant id serves (a runtime object does not
   * reliably know its own name): stored by the first call that names it and
   * checked on every later one, so a caller's bug can never mix two tenants'
   * data in one object. Reads storage, not only memory, so an actor restarted
   * by eviction knows it before any call names it again.
   */
  protected bindTenant(tenantId: string): string {
    const known = this.boundTenant();
    if (known === null) {
      this.ctx.storage.kv.put(TENANT_KEY, tenantId);
      this.tenant = tenantId;
      return tenantId;
    }
    if (known !== tenantId) throw new Error(`${this.options.name} addressed with another tenant's id`);
    return known;
  }

  /** The tenant bound by {@link bindTenant}, or null before the first call named it. */
  protected boundTenant(): string | null {
    this.tenant ??= this.ctx.storage.kv.get<string>(TENANT_KEY) ?? null;
    return this.tenant;
  }

  /** Offboarding (`...EraseRpc` in a contract): refuses another tenant's id, then wipes storage and memory. */
  async eraseAll(input: RpcArgs<typeof EraseRpc, "eraseAll">): Promise<{ erased: true }> {
    const { tenant_id } = rpcArgs(EraseRpc, "eraseAll", input);
    if (![null, tenant_id].includes(this.boundTenant())) throw new WrongTenant(this.options.name);
    await wipeStorage(this.ctx.storage, () => {
      [this.started, this.tenant, this.armed] = [false, null, undefined];
      this.ready();
    });
    return { erased: true };
  }
  /** The supervision state, for tests and status routes. */
  protected supervisionState(): Readonly<SupervisionState> {
    this.ready();
    return this.supervision;
  }

  private async runDue(): Promise<void> {
    const sql = this.ctx.storage.sql;
    for (const timer of dueTimers(sql, this.now(), TIMERS_PER_ALARM)) {
      if (timer.key === RELAY_TIMER) {
        deleteTimer(sql, timer.id);
        await this.relay.onAlarm(this.env.EVENTS);
        continue;
      }
      const ok = await this.fire(timer);
      if (!ok && isPaused(this.supervision, this.now())) return;
    }
  }

  /** Handles one timer; whether its handler succeeded. */
  private async fire(timer: TimerRow): Promise<boolean> {
    const sql = this.ctx.storage.sql;
    const parsed = this.options.timerMessage.safeParse(safeJson(timer.message));
    if (!parsed.success) {
      // Retrying cannot make it parse: dropped, counted and logged (without the message, which may hold data).
      deleteTimer(sql, timer.id);
      isolateRecorder.inc(METRICS.actorFailures, [this.options.name, "timer"]);
      this.log.error("timer message unreadable; dropped", { timer_id: timer.id, key: timer.key });
      return true;
    }
    try {
      await this.onTimer(parsed.data, { attempts: timer.attempts, at: timer.at });
    } catch (error) {
      await this.failed("timer", error);
      const retryAt = this.now() + backoffDelay(timer.attempts + 1, this.timerRetry(), this.options.random);
      retryTimer(sql, timer.id, Math.max(retryAt, this.supervision.pausedUntil ?? 0));
      this.timersChanged = true;
      return false;
    }
    deleteTimer(sql, timer.id);
    this.timersChanged = true;
    this.succeeded();
    return true;
  }

  private timerRetry(): BackoffPolicy {
    return this.options.timerRetry ?? DEFAULT_TIMER_RETRY;
  }

  /**
   * Migrates and loads once per object lifetime, lazily: subclass fields exist
   * by the first message. {@link receive}, {@link transact} and the alarm call
   * it; a read-only method that skips `receive` calls it first.
   */
  protected ready(): void {
    if (this.started) return;
    const storage = this.ctx.storage;
    migrateSqlite(storage, BASE_SCHEMA, BASE_TRACK);
    if (this.options.schema) migrateSqlite(storage, this.options.schema, "_schema");
    this.supervision = storage.kv.get<SupervisionState>(SUPERVISION_KEY) ?? initialSupervision();
    this.started = true;
    this.onStart();
  }

  /** Refuses a message while paused; restarts first when the pause has ended. */
  private admit(): void {
    const now = this.now();
    if (isPaused(this.supervision, now)) throw new ActorBackingOff(this.supervision.pausedUntil ?? now);
    if (restartDue(this.supervision, now)) this.restart();
  }

  /** Ends a pause: clears it and rebuilds the subclass's memory from storage. */
  private restart(): void {
    this.supervision = { ...this.supervision, pausedUntil: null };
    this.ctx.storage.kv.put(SUPERVISION_KEY, this.supervision);
    this.log.warn("actor restarting from storage", { restarts: this.supervision.restarts });
    this.onStart();
  }

  private succeeded(): void {
    const next = recordSuccess(this.supervision);
    if (next === this.supervision) return;
    this.supervision = next;
    this.ctx.storage.kv.put(SUPERVISION_KEY, next);
  }

  /** Counts a failure (after the rollback, in its own write); pauses and escalates when it is one too many. */
  private async failed(handler: string, error: unknown): Promise<void> {
    isolateRecorder.inc(METRICS.actorFailures, [this.options.name, handler]);
    const { state, restart } = recordFailure(
      this.supervision,
      this.now(),
      this.options.supervision ?? DEFAULT_SUPERVISION,
    );
    this.supervision = state;
    try {
      this.ctx.storage.kv.put(SUPERVISION_KEY, state);
      const address = this.escalationAddress();
      // Which of a class's many objects failed (a tenant's endpoint among dozens): its tenant and stream.
      const where = address ? { tenant_id: address.tenantId, stream: address.stream } : {};
      if (restart) {
        isolateRecorder.inc(METRICS.actorRestarts, [this.options.name]);
        this.log.error("actor failed too often; backing off before a restart", {
          ...where,
          handler,
          restarts: restart.restarts,
          backoff_ms: restart.backoffMs,
          ...errorFields(error),
        });
        this.timersChanged = true;
        if (address) this.tx.run(() => this.emit(address, escalationEvent(this.options.name, handler, restart, error)));
        await this.afterCommit();
      } else {
        this.log.warn("actor handler failed", { ...where, handler, ...errorFields(error) });
      }
    } catch (storageError) {
      this.log.error("actor failure could not be recorded", errorFields(storageError));
    }
  }

  /** After a commit: the alarm follows the earliest timer, new outbox rows leave, metrics flush now and then. */
  private async afterCommit(): Promise<void> {
    if (this.timersChanged || this.armed === undefined) await this.rearm();
    this.relay.afterCommit(this.ctx, this.env.EVENTS);
    isolateMetrics().maybeFlush(this.env, this.clock, (p) => this.ctx.waitUntil(p));
  }

  /** Sets the alarm to the earliest timer (no earlier than the end of a pause), or deletes it. */
  private async rearm(): Promise<void> {
    this.timersChanged = false;
    let next = nextTimerAt(this.ctx.storage.sql);
    const paused = this.supervision.pausedUntil;
    if (next !== null && paused !== null && paused > next) next = paused;
    if (next === this.armed) return;
    // Forget it first: if the write fails, the next commit sets it again.
    this.armed = undefined;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
    this.armed = next;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
