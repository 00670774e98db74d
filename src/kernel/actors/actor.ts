import { DurableObject } from "cloudflare:workers";
import type { Clock } from "../clock";
import { EraseRpc, WrongTenant, wipeStorage } from "../durable/erase";
import { type RpcArgs, type RpcReply, rpcArgs } from "../durable/rpc";
import { migrateSqlite } from "../durable/sqlite-schema";
import { isErased, markErased, TenantErased } from "../durable/tombstone";
import type { OutgoingEvent } from "../events/envelope";
import { PingRpc, PONG } from "../health/contract";
import { createLogger, type Logger } from "../log";
import { METRICS } from "../metrics/catalog";
import { isolateMetrics } from "../metrics/flush";
import { isolateRecorder } from "../metrics/recorder";
import { type AlarmPort, OutboxRelay } from "../outbox/relay";
import { backoffDelay } from "../resilience/backoff";
import { ACTOR_BASE_SCHEMA } from "./base-schema";
import { CountedTransactions } from "./counted-tx";
import { DeclaredEvents } from "./declared-events";
import { EscalationCheck } from "./escalation-check";
import { type ActorEvent, appendActorEvent } from "./events";
import { type ActorAddress, ActorBackingOff, type ActorOptions, DEFAULT_TIMER_RETRY, NoTimers } from "./options";
import { AggregateKinds } from "./stream-kinds";
import { isPaused, restartDue, type SupervisionState } from "./supervision";
import { Supervisor } from "./supervisor";
import { TenantBinding } from "./tenant-binding";
import { TimerAlarm } from "./timer-alarm";
import { dropTimer, readTimerMessage } from "./timer-message";
import {
  deleteTimer,
  deleteTimerKey,
  dueTimers,
  putTimer,
  retryTimer,
  type ScheduleMode,
  type TimerRow,
  timerAt,
  timerKeys,
} from "./timers";
import { vacateStorage } from "./vacate";

const BASE_TRACK = "_actor_schema";
/** The relay's wake-up, one of the actor's timers. */
const RELAY_TIMER = "__outbox_relay";
/** Timers run per alarm, so one alarm invocation stays bounded; the rest run on the next, set at once. */
const TIMERS_PER_ALARM = 50;

/**
 * A small actor base over a SQLite-backed Durable Object. See docs/actors.md.
 *
 * - **Messages** are the subclass's RPC methods (typed by an `RpcContract`),
 *   each of which runs its body through {@link receive}: the object's input
 *   gate delivers them one at a time, and the body runs in one storage
 *   transaction, so a handler that throws leaves nothing it wrote behind.
 * - **Timers**: {@link schedule} stores a message to be handled by
 *   {@link onTimer} at a time; any number per actor, multiplexed over the one
 *   alarm, persisted (they survive eviction), fired at least once. An actor
 *   without timers (`Actor` with no type argument) gives neither `timerMessage`
 *   nor `onTimer`.
 * - **Supervision**: every throw is counted; `maxFailures` inside the window
 *   pause the actor (callers get {@link ActorBackingOff}) for an exponentially
 *   growing time, after which it restarts from storage ({@link onStart} runs
 *   again) and an `actor.escalated` event goes to its outbox.
 * - **Outbox**: {@link emit} appends an event in the handler's transaction;
 *   after the commit the relay sends it to the EVENTS queue, its retries and
 *   safety net being one more timer.
 */
export abstract class Actor<M = never> extends DurableObject<Env> {
  protected readonly clock: Clock;
  protected readonly log: Logger;
  private readonly relay: OutboxRelay;
  private readonly options: ActorOptions<M>;
  private readonly supervisor: Supervisor;
  private started = false;
  /** The one alarm, on the earliest timer. */
  private readonly timerAlarm: TimerAlarm;
  private readonly binding: TenantBinding;
  /** The object's transactions, counting what {@link emit} appended once it committed. */
  private readonly tx: CountedTransactions;
  /** What {@link emit} may append: the module's declared types. */
  private readonly events: DeclaredEvents;
  /** What {@link emit} may not append to: a stream of a registered aggregate type. */
  private readonly kinds: AggregateKinds;
  /** The escalation address, refused in the transaction that gives it when of an aggregate's kind. */
  private readonly escalation: EscalationCheck;

  constructor(ctx: DurableObjectState, env: Env, options: ActorOptions<M>) {
    super(ctx, env);
    this.options = options;
    this.clock = options.clock;
    this.log = createLogger("warn", { component: "actor", actor: options.name });
    // What a transaction that rolled back wrote is gone: the binding's memo and the subclass's must not outlive it.
    this.tx = new CountedTransactions(ctx.storage, options.name, () => {
      this.binding.forget();
      this.onStart();
    });
    this.events = new DeclaredEvents(options.name, options.module, options.modules);
    this.kinds = new AggregateKinds(options.name, options.modules);
    this.escalation = new EscalationCheck(this.kinds, () => this.escalationAddress());
    this.binding = new TenantBinding(ctx.storage, options.name);
    this.timerAlarm = new TimerAlarm(ctx.storage);
    this.supervisor = new Supervisor({
      name: options.name,
      storage: ctx.storage,
      log: this.log,
      policy: options.supervision,
      whilePaused: options.whilePaused,
      now: () => this.now(),
      restarted: () => this.onStart(),
      escalationAddress: () => this.escalationAddress(),
      escalate: (address, event) => this.tx.run(() => void this.emit(address, event)),
      paused: async () => {
        this.timerAlarm.changed();
        await this.afterCommit();
      },
    });
    const port: AlarmPort = {
      get: () => timerAt(this.ctx.storage.sql, RELAY_TIMER),
      set: async (at) => {
        putTimer(this.ctx.storage.sql, "null", at, { key: RELAY_TIMER, now: this.now() });
        await this.timerAlarm.rearm(this.supervisor.state.pausedUntil);
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
   * first message or timer, again after every transaction (or nested `transact`)
   * that rolled back, so a cache a failing handler changed follows storage back,
   * and on every restart after a backoff.
   */
  protected onStart(): void {}

  /**
   * Handles a due timer's message. Throwing counts as a failure and fires the timer again later.
   * Override it when the options declare a `timerMessage`: this default throws {@link NoTimers}
   * (a failure, retried), so a deploy that adds the handler still runs the timers. An actor
   * without a `timerMessage` never reaches it: its timers are dropped before (`fire`).
   */
  protected onTimer(_message: M, _timer: { attempts: number; at: number }): Promise<void> | void {
    throw new NoTimers(this.options.name, "onTimer");
  }

  /** The clock's time, epoch ms. */
  protected now(): number {
    return this.clock.now().getTime();
  }

  /**
   * Runs one message: refuses while the actor is paused (unless its options'
   * `whilePaused` is "accept"), runs `fn` in one
   * storage transaction (rolled back if it throws), counts a throw for
   * supervision, then re-arms the alarm and sends new outbox rows.
   *
   * @example
   * // in an RPC method: one message, one transaction (schedule answers the timer's id)
   * return this.receive("enqueue", () => ({ timer: this.schedule({ kind: "deliver" }, this.now()) }));
   */
  protected async receive<T>(handler: string, fn: () => T): Promise<T> {
    this.ready();
    const whilePaused = this.supervisor.admit();
    let result: T;
    try {
      result = this.tx.run(() => this.escalation.after(fn));
    } catch (error) {
      // A refusal after the erasure is no fault of the actor's: counted, it would write supervision state.
      if (!(error instanceof TenantErased)) await this.supervisor.failed(handler, error);
      throw error;
    }
    if (!whilePaused) this.supervisor.succeeded();
    await this.afterCommit();
    return result;
  }

  /**
   * Runs `fn` in one storage transaction, for the writes of an async timer
   * handler between its awaits (a transaction cannot span an await).
   */
  protected transact<T>(fn: () => T): T {
    this.ready();
    // A timer that was awaiting when the erasure came: what it would write now belongs to no one.
    if (this.erased()) throw new TenantErased(this.options.name);
    return this.tx.run(() => this.escalation.after(fn));
  }

  /**
   * Schedules `message` for {@link onTimer} at `at` (epoch ms; past times fire
   * at the next alarm). With a `key`, the timer replaces the key's pending one
   * (or, with `mode: "earliest"`, keeps whichever fires first). Call inside a
   * handler or {@link transact}: the alarm is re-armed after the commit.
   */
  protected schedule(message: M, at: number, options: { key?: string; mode?: ScheduleMode } = {}): string {
    if (options.key === RELAY_TIMER) throw new Error("reserved timer key");
    // Stored, it could only be dropped when it fired: refused now, in the caller's transaction.
    if (!this.options.timerMessage) throw new NoTimers(this.options.name, "timerMessage");
    this.timerAlarm.changed();
    return putTimer(this.ctx.storage.sql, JSON.stringify(message), at, { ...options, now: this.now() });
  }

  /** The keys of the pending timers starting with `prefix` (work promised but not yet done). */
  protected pendingTimerKeys(prefix: string): string[] {
    this.ready();
    return timerKeys(this.ctx.storage.sql, prefix);
  }

  /** Cancels the pending timer of `key`; whether there was one. */
  protected cancel(key: string): boolean {
    this.timerAlarm.changed();
    return deleteTimerKey(this.ctx.storage.sql, key);
  }

  /**
   * Appends an event to the actor's outbox, in the running transaction; its
   * version counts the events of its stream from 1. A type the options'
   * `module` does not declare throws `UndeclaredEvent`, a stream of an
   * aggregate's kind `StreamOfAggregate` (the handler's writes roll back).
   */
  protected emit(address: ActorAddress, event: ActorEvent): OutgoingEvent {
    this.events.check(event.type);
    this.kinds.check(address);
    this.tx.appended();
    return appendActorEvent(this.ctx.storage.sql, address, event, this.now(), this.options.name);
  }

  /**
   * Where the actor's escalation events go; null (the default) logs them only.
   * An actor that knows its tenant returns it. One of an aggregate's kind fails the
   * message (or `transact`) that gives it, with `StreamOfAggregate` (escalation-check.ts).
   */
  protected escalationAddress(): ActorAddress | null {
    return null;
  }

  /** Runs the due timers (and the relay's), restarting first when a backoff has ended. */
  override async alarm(): Promise<void> {
    this.ready();
    // The alarm that fired is spent: whatever ran, the next one is set after (later than now: timer-alarm.ts).
    this.timerAlarm.fired(this.now());
    try {
      if (!this.erased() && !isPaused(this.supervisor.state, this.now())) {
        if (restartDue(this.supervisor.state, this.now())) this.supervisor.restart();
        await this.runDue();
      }
    } finally {
      // A timer still awaiting when the erasure came (a delivery in flight) writes its outcome
      // after the wipe: wiped again, and no alarm set.
      try {
        if (this.erased()) await this.wipe();
        else await this.afterCommit();
      } finally {
        this.timerAlarm.settled();
      }
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
    // After an erasure the binding is gone with the rest: without this, a late call would bind afresh.
    if (this.erased()) throw new TenantErased(this.options.name);
    return this.binding.bind(tenantId);
  }

  /** The tenant bound by {@link bindTenant}, or null before the first call named it. */
  protected boundTenant(): string | null {
    return this.binding.bound();
  }

  /**
   * Offboarding (`...EraseRpc` in a contract): refuses another tenant's id, then wipes
   * storage and memory, leaving a tombstone (tombstone.ts): from then on the object
   * binds no tenant ({@link bindTenant} throws) and its alarm runs nothing.
   */
  async eraseAll(input: RpcArgs<typeof EraseRpc, "eraseAll">): Promise<{ erased: true }> {
    const { tenant_id } = rpcArgs(EraseRpc, "eraseAll", input);
    if (![null, tenant_id].includes(this.boundTenant())) throw new WrongTenant(this.options.name);
    await this.wipe();
    return { erased: true };
  }

  /** Whether its tenant's erasure emptied this object: a late caller's data is then ignored or refused. */
  protected erased(): boolean {
    return isErased(this.ctx.storage.kv);
  }

  /** Leaves no storage at all once it owes nothing (vacate.ts); whether it did. An erased one keeps its tombstone. */
  protected async vacate(): Promise<boolean> {
    this.ready();
    if (this.erased()) return true;
    const vacated = await vacateStorage(this.ctx.storage, RELAY_TIMER, this.timerAlarm, () =>
      this.relay.drain(this.env.EVENTS),
    );
    if (vacated === "vacated") this.forgetStorage();
    return vacated !== "owing";
  }

  private async wipe(): Promise<void> {
    await wipeStorage(this.ctx.storage, () => {
      this.forgetStorage();
      this.ready();
      markErased(this.ctx.storage.kv);
    });
  }

  /** Storage was emptied (the outbox too: nothing it held is left to send): memory follows. */
  private forgetStorage(): void {
    this.started = false;
    this.timerAlarm.forget();
    this.relay.forget();
    this.tx.takeUnsent();
    this.binding.forget();
  }

  /** The supervision state, for tests and status routes. */
  protected supervisionState(): Readonly<SupervisionState> {
    this.ready();
    return this.supervisor.state;
  }

  private async runDue(): Promise<void> {
    const sql = this.ctx.storage.sql;
    for (const timer of dueTimers(sql, this.now(), TIMERS_PER_ALARM)) {
      // Erased by a call that came while a timer awaited: the rest of the list went with it.
      if (this.erased()) return;
      if (timer.key === RELAY_TIMER) {
        deleteTimer(sql, timer.id);
        await this.relay.onAlarm(this.env.EVENTS);
        continue;
      }
      const ok = await this.fire(timer);
      if (!ok && isPaused(this.supervisor.state, this.now())) return;
    }
  }

  /** Handles one timer; whether its handler succeeded. */
  private async fire(timer: TimerRow): Promise<boolean> {
    const sql = this.ctx.storage.sql;
    const read = readTimerMessage(timer.message, this.options.timerMessage);
    if (!read.ok) {
      dropTimer(sql, timer, read.why, { actor: this.options.name, log: this.log });
      return true;
    }
    try {
      await this.onTimer(read.message, { attempts: timer.attempts, at: timer.at });
    } catch (error) {
      // Its tenant was erased meanwhile: nothing to retry, no failure of the actor's.
      if (this.erased()) return true;
      await this.supervisor.failed("timer", error);
      const retryAt =
        this.now() +
        backoffDelay(timer.attempts + 1, this.options.timerRetry ?? DEFAULT_TIMER_RETRY, this.options.random);
      retryTimer(sql, timer.id, Math.max(retryAt, this.supervisor.state.pausedUntil ?? 0));
      this.timerAlarm.changed();
      return false;
    }
    deleteTimer(sql, timer.id);
    this.timerAlarm.changed();
    this.supervisor.succeeded();
    // The one sign outside its storage that a timer ran (a reminder under npm start, say).
    isolateRecorder.inc(METRICS.actorTimersFired, [this.options.name]);
    return true;
  }

  /**
   * Migrates and loads once per object lifetime, lazily: subclass fields exist
   * by the first message. {@link receive}, {@link transact} and the alarm call
   * it; a read-only method that skips `receive` calls it first.
   */
  protected ready(): void {
    if (this.started) return;
    const storage = this.ctx.storage;
    migrateSqlite(storage, ACTOR_BASE_SCHEMA, BASE_TRACK);
    if (this.options.schema) migrateSqlite(storage, this.options.schema, "_schema");
    this.supervisor.load();
    this.started = true;
    this.onStart();
  }

  /** After a commit: the alarm follows the earliest timer, new outbox rows leave, metrics flush now and then. */
  private async afterCommit(): Promise<void> {
    const overdueMs = await this.timerAlarm.follow(this.supervisor.state.pausedUntil, this.now());
    if (overdueMs !== null) this.log.warn("actor alarm overdue; set again", { overdue_ms: overdueMs });
    // What the commits since the last call appended: none, and the relay does not look.
    this.relay.afterCommit(this.ctx, this.env.EVENTS, this.tx.takeUnsent());
    isolateMetrics().maybeFlush(this.env, this.clock, (p) => this.ctx.waitUntil(p));
  }
}
