import { z } from "zod";
import { Actor } from "../../src/kernel/actors";
import { type ManualClock, manualClock } from "../../src/kernel/clock";
import { KERNEL_NEEDS, loadConfig } from "../../src/kernel/config";
import { wasmAead } from "../../src/kernel/crypto/aead";
import { Envelope, MissingKeyVersion, parseMasterKeys, type TenantSeeds } from "../../src/kernel/crypto/envelope";
import { SealedKinds } from "../../src/kernel/crypto/sealed-kinds";
import { defineRpc, type RpcArgs, type RpcServer, rpcArgs } from "../../src/kernel/durable/rpc";
import { OriginSchema } from "../../src/kernel/events/origin";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { modules } from "../../src/modules";

/**
 * A test-only actor over the base (test/worker.ts exports it; vitest.config.ts
 * binds it as PROBE_ACTOR): it writes notes, schedules timers, and fails on
 * request, so the base's timers, rollback and supervision are observable.
 */
const Timer = z.object({
  note: z.string(),
  fail: z.boolean().default(false),
  /** A note its handler schedules for the clock's now, as a delivery schedules the next one. */
  next_note: z.string().optional(),
});
type Timer = z.infer<typeof Timer>;

/** The probe's module, test-only: the events it declares are all its actor may emit. */
const probeModule = {
  name: "probe",
  version: "1.0.0",
  events: {
    publishes: z.discriminatedUnion("type", [
      z.object({ type: z.literal("probe.note.added"), data: z.object({ value: z.string() }) }),
    ]),
  },
} satisfies ModuleDef;

export const ProbeRpc = defineRpc({
  note: {
    // `config`: fail as a retired key version would (a ConfigError logged where it was met).
    // `type`: the event it emits (one its module does not declare is refused); `stream`: where
    // (one of a registered aggregate's kind is refused).
    args: z.object({
      value: z.string(),
      fail: z.union([z.boolean(), z.literal("config")]).default(false),
      type: z.string().default("probe.note.added"),
      stream: z.string().default("t_probe/probe/1"),
    }),
    reply: z.object({ id: z.number() }),
  },
  later: {
    args: z.object({
      note: z.string(),
      at: z.number(),
      key: z.string().optional(),
      fail: z.boolean().default(false),
      next_note: z.string().optional(),
    }),
    reply: z.object({ timer: z.string() }),
  },
  notes: { args: z.object({}), reply: z.array(z.string()) },
  /** A note a request caused: its event names the request's origin, as a product module's actor's does. */
  noteBy: { args: z.object({ value: z.string(), origin: OriginSchema }), reply: z.object({}) },
  setTime: { args: z.object({ at: z.number() }), reply: z.object({}) },
  nested: { args: z.object({}), reply: z.object({}) },
  /** `fail`: throw after binding, so the message's transaction rolls the binding back. */
  bind: {
    args: z.object({ tenant_id: z.string(), fail: z.boolean().default(false) }),
    reply: z.object({ tenant_id: z.string() }),
  },
  unseal: { args: z.object({ sealed: z.string() }), reply: z.object({ opened: z.string() }) },
});
type Rpc = typeof ProbeRpc;

/** The one tenant seed the probe opens values with (a test seals with the same). */
export const PROBE_SEEDS: TenantSeeds = { seed: async () => new Uint8Array(32).fill(7) };
/** Whose value, and which field, the probe's `unseal` opens. */
export const PROBE_SEALED = { tenantId: "t_probe", field: "probe.sealed" };
/** The one kind the probe's envelope seals: PROBE_SEALED's. */
export const PROBE_KINDS = new SealedKinds([PROBE_SEALED.field]);

/** Every probe shares one clock per isolate, so a test can move time for an actor that was evicted and rebuilt. */
export const probeClock: ManualClock = manualClock("2030-01-01T00:00:00Z");

export class ProbeActor extends Actor<Timer> implements RpcServer<Rpc> {
  /** How often onStart ran in this instance: a restart from storage runs it again. */
  starts = 0;
  /** Notes as loaded by onStart: a cache the supervision rebuilds. */
  cached: string[] = [];
  /** Timer notes whose handler should fail this many more times. */
  failuresLeft = new Map<string, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, {
      name: "ProbeActor",
      schema: [
        [
          "create table notes (id integer primary key autoincrement, value text not null)",
          // What emit() appended, kept past the relay's drain (which deletes sent outbox rows).
          "create table emitted (id integer primary key autoincrement, type text not null, data text not null)",
        ],
        // The whole envelope, for what it says beyond data (actor, request id, ip hash).
        ["alter table emitted add column envelope text"],
      ],
      timerMessage: Timer,
      module: probeModule.name,
      // The deployed modules and its own, as the platform's actors are built over the platform's:
      // the blog's `post` is an aggregate.
      modules: [...modules, probeModule],
      clock: probeClock,
      supervision: { maxFailures: 3, windowMs: 10_000, backoff: { baseMs: 1_000, maxMs: 8_000 } },
      timerRetry: { baseMs: 100, maxMs: 100 },
      random: () => 0.999,
    });
  }

  protected override onStart(): void {
    this.starts += 1;
    this.cached = this.ctx.storage.sql
      .exec<{ value: string }>("select value from notes order by id")
      .toArray()
      .map((r) => r.value);
  }

  protected override emit(...args: Parameters<Actor<Timer>["emit"]>) {
    const event = super.emit(...args);
    this.ctx.storage.sql.exec(
      "insert into emitted (type, data, envelope) values (?, ?, ?)",
      event.type,
      JSON.stringify(event.data),
      JSON.stringify(event),
    );
    return event;
  }

  protected override escalationAddress() {
    return { tenantId: "t_probe", stream: "t_probe/probe/1" };
  }

  protected override onTimer(message: Timer): Promise<void> | void {
    // A held timer waits (as a delivery awaits its receiver) until the test lets it go.
    const held = this.hold;
    if (held) {
      held.reached = true;
      return held.gate.then(async () => {
        try {
          this.write(message);
        } finally {
          held.written = true;
        }
        // Still running after its write (a delivery releasing its permit), until finishTimers.
        await held.after;
      });
    }
    this.write(message);
  }

  /** Holds the next timers at their start until {@link releaseTimers}. */
  holdTimers(): void {
    let release = () => {};
    let finish = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const after = new Promise<void>((resolve) => {
      finish = resolve;
    });
    this.hold = { gate, release, after, finish, reached: false, written: false };
  }

  /** Whether a held timer, let go, has tried its write. */
  timerWrote(): boolean {
    return this.hold?.written === true;
  }

  /** Lets a released timer end. */
  finishTimers(): void {
    this.hold?.finish();
    this.hold = null;
  }

  /** Whether a held timer is waiting. */
  timerHeld(): boolean {
    return this.hold?.reached === true;
  }

  releaseTimers(): void {
    this.hold?.release();
  }

  /**
   * Opens a value of PROBE_SEALED's tenant and field with the object's own ENCRYPTION_KEYS, as an
   * object that unseals in an RPC method would: a value sealed under a version those keys lack
   * throws MissingKeyVersion here, in the object.
   */
  async unseal(input: RpcArgs<Rpc, "unseal">) {
    const { sealed } = rpcArgs(ProbeRpc, "unseal", input);
    const loaded = loadConfig(this.env, KERNEL_NEEDS);
    if (!loaded.ok || !loaded.config.encryptionKeys) throw new Error("the probe's env has no ENCRYPTION_KEYS");
    const envelope = new Envelope(wasmAead, parseMasterKeys(loaded.config.encryptionKeys), PROBE_SEEDS, PROBE_KINDS);
    return { opened: await envelope.decryptText(PROBE_SEALED.tenantId, PROBE_SEALED.field, sealed) };
  }

  /** Empties its storage for good once it owes nothing, as a deleted thing's actor does (Actor.vacate). */
  vacateNow(): Promise<boolean> {
    return this.vacate();
  }

  /** Binds the probe to a tenant, as a per-tenant actor's first call does. */
  bind(input: RpcArgs<Rpc, "bind">) {
    return this.receive("bind", () => {
      const { tenant_id, fail } = rpcArgs(ProbeRpc, "bind", input);
      const bound = this.bindTenant(tenant_id);
      if (fail) throw new Error("probe bind failed");
      return { tenant_id: bound };
    });
  }

  private hold: {
    gate: Promise<void>;
    release: () => void;
    after: Promise<void>;
    finish: () => void;
    reached: boolean;
    written: boolean;
  } | null = null;

  /** Runs `fn` through the base's transact, as a timer handler writes (for runInDurableObject). */
  transactNow<T>(fn: () => T): T {
    return this.transact(fn);
  }

  private write(message: Timer): void {
    this.transact(() => {
      this.ctx.storage.sql.exec("insert into notes (value) values (?)", message.note);
      if (message.next_note) this.schedule({ note: message.next_note, fail: false }, this.now());
    });
    const left = this.failuresLeft.get(message.note) ?? (message.fail ? 1 : 0);
    if (left > 0) {
      this.failuresLeft.set(message.note, left - 1);
      throw new Error(`timer ${message.note} fails`);
    }
  }

  note(input: RpcArgs<Rpc, "note">) {
    return this.receive("note", () => {
      const { value, fail, type, stream } = rpcArgs(ProbeRpc, "note", input);
      const row = this.ctx.storage.sql
        .exec<{ id: number }>("insert into notes (value) values (?) returning id", value)
        .one();
      this.schedule({ note: `after:${value}`, fail: false }, this.now() + 60_000, { key: `after:${value}` });
      this.emit({ tenantId: "t_probe", stream }, { type, data: { value } });
      if (fail === "config") throw new MissingKeyVersion(98);
      if (fail) throw new Error("handler fails after writing");
      return { id: row.id };
    });
  }

  noteBy(input: RpcArgs<Rpc, "noteBy">) {
    return this.receive("noteBy", () => {
      const { value, origin } = rpcArgs(ProbeRpc, "noteBy", input);
      this.emit(
        { tenantId: "t_probe", stream: "t_probe/probe/by" },
        { type: "probe.note.added", data: { value }, ...origin },
      );
      return {};
    });
  }

  later(input: RpcArgs<Rpc, "later">) {
    return this.receive("later", () => {
      const { note, at, key, fail, next_note } = rpcArgs(ProbeRpc, "later", input);
      return { timer: this.schedule({ note, fail, next_note }, at, key ? { key } : {}) };
    });
  }

  notes(input: RpcArgs<Rpc, "notes">) {
    rpcArgs(ProbeRpc, "notes", input);
    return this.receive("notes", () =>
      this.ctx.storage.sql
        .exec<{ value: string }>("select value from notes order by id")
        .toArray()
        .map((r) => r.value),
    );
  }

  /** Emits a and b, then c in a nested transaction that commits, d in one rolled back, then e. */
  nested(input: RpcArgs<Rpc, "nested">) {
    rpcArgs(ProbeRpc, "nested", input);
    const at = { tenantId: "t_probe", stream: "t_probe/probe/nested" };
    const note = (value: string) => this.emit(at, { type: "probe.note.added", data: { value } });
    return this.receive("nested", () => {
      note("a");
      note("b");
      this.transact(() => note("c"));
      try {
        this.transact(() => {
          note("d");
          throw new Error("inner rolls back");
        });
      } catch {
        // The outer transaction goes on without d.
      }
      note("e");
      return {};
    });
  }

  setTime(input: RpcArgs<Rpc, "setTime">) {
    probeClock.set(new Date(rpcArgs(ProbeRpc, "setTime", input).at));
    return {};
  }

  /** Evicts the object, as the runtime may at any time: in-memory state is gone, storage stays. */
  evict() {
    this.ctx.abort("evicted by the test");
  }

  emitted() {
    return this.ctx.storage.sql
      .exec<{ type: string; data: string }>("select type, data from emitted order by id")
      .toArray();
  }

  /** The envelopes emitted, as JSON, oldest first. */
  envelopes() {
    return this.ctx.storage.sql
      .exec<{ envelope: string }>("select envelope from emitted order by id")
      .toArray()
      .map((r) => r.envelope);
  }

  /** Test access to the base's supervision state. */
  supervisionNow() {
    return this.supervisionState();
  }
}
