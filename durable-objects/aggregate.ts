import { DurableObject } from "cloudflare:workers";
import { WrongTenant, wipeStorage } from "../src/kernel/durable/erase";
import { type RpcArgs, type RpcReply, type RpcServer, rpcArgs } from "../src/kernel/durable/rpc";
import { LazySchema } from "../src/kernel/durable/sqlite-schema";
import { isErased, markErased, TenantErased } from "../src/kernel/durable/tombstone";
import { AggregateRpc } from "../src/kernel/events/aggregate-rpc";
import { AGGREGATE_SCHEMA, AggregateStore, type StreamInfo, streamKey } from "../src/kernel/events/aggregate-store";
import type { AnyDecider, NewEvent } from "../src/kernel/events/decider";
import { InlineProjector } from "../src/kernel/events/inline";
import { PingRpc, PONG } from "../src/kernel/health/contract";
import { isolateMetrics } from "../src/kernel/metrics/flush";
import type { PlatformParts } from "../src/kernel/modules/types";
import { OutboxRelay } from "../src/kernel/outbox/relay";
import { traceCarrier } from "../src/kernel/telemetry";

/** Rolls back a stream's first write that stored no event (firstWrite). */
class NothingWritten extends Error {}

/** The aggregate types the registered modules declare, as `createPlatform` resolved them. */
export type DeciderRegistry = ReadonlyMap<string, { decider: AnyDecider; snapshotEvery: number }>;

type Rpc = typeof AggregateRpc;

/**
 * Least time between two inline passes (of all the Aggregates of an isolate,
 * which share one projector) and between two outbox drains of one Aggregate
 * (ms). A commit after a quiet spell is applied and sent at once; under load
 * every commit since the last pass (or send) goes in the next one. So the read
 * model costs D1 at most 100 writes/s per isolate and trails busy aggregates by
 * up to 10 ms. The relay's pace is longer because each send is one more queue
 * message for every consumer to read and delete (Queues bills and limits by
 * message: 5,000 a second per queue), and an aggregate taking a few commands a
 * second gains nothing from a short one: at 500 ms a busy aggregate drains at
 * most twice a second, its commits since the last drain packed together, and
 * its queue consumers (webhooks, the audit log, projections that are not
 * inline) see its events up to 500 ms later. Measured in docs/events.md ("What
 * a command costs"); the read paths each give in "Queries".
 */
export const INLINE_PACE_MS = 10;
export const RELAY_PACE_MS = 500;

/**
 * The Aggregate Durable Object class over a platform's deciders: one object
 * per aggregate, named `<tenant>/<type>/<id>`, runs the module's pure decider
 * and is the single writer of the aggregate's events. After each commit it
 * sends the outbox to the queue and applies the events to the inline
 * subscriptions (read models visible at once; kernel/events/inline.ts). The
 * Worker entry exports the class this returns (`export const Aggregate = …`),
 * so the deciders and subscriptions come from the one registry
 * `createPlatform` built; the kernel names no module.
 */
export function aggregateObject(
  platform: Pick<PlatformParts, "modules" | "needs" | "clock"> & { deciders: DeciderRegistry },
) {
  const { deciders } = platform;
  /**
   * One inline projector for all the Aggregate objects this isolate runs, made by the first:
   * commits of different aggregates that arrive within a pass's pace go to D1 in one batch,
   * as one aggregate's do. A pass uses only the D1 binding and plain data, so the object
   * whose commit starts it can carry the others' events; the queue still applies whatever a
   * pass misses. The pass runs in that object's context, so only that object waits on it
   * (`push` names the writer): another's promise is never awaited across objects.
   */
  let inline: InlineProjector | undefined;
  return class Aggregate extends DurableObject<Env> implements RpcServer<Rpc>, RpcServer<typeof PingRpc> {
    /** Readiness (kernel/health/contract.ts): answers without reading or writing data. */
    ping(input: RpcArgs<typeof PingRpc, "ping">): RpcReply<typeof PingRpc, "ping"> {
      rpcArgs(PingRpc, "ping", input);
      return PONG;
    }

    private store: AggregateStore<{ type: string }, NewEvent, unknown> | null = null;
    private key: string | null = null;
    /** Made by the first write only: reading an aggregate never written (a probe for a random id) leaves no storage. */
    private readonly schema: LazySchema;
    /** The stream row is written (once per object lifetime is enough: it never changes). */
    private pinned = false;
    private readonly relay: OutboxRelay;
    private readonly inline: InlineProjector;

    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, env);
      this.schema = new LazySchema(ctx.storage, AGGREGATE_SCHEMA);
      this.relay = new OutboxRelay(ctx.storage, { object: "Aggregate", clock: platform.clock, paceMs: RELAY_PACE_MS });
      inline ??= new InlineProjector(platform, env, { paceMs: INLINE_PACE_MS });
      this.inline = inline;
    }

    /** Retries the outbox drain (with backoff) and is the safety net after a crash mid-drain. */
    override async alarm(): Promise<void> {
      if (this.schema.present(false)) await this.relay.onAlarm(this.env.EVENTS);
      this.flushMetrics();
    }

    /** This isolate's metrics (the relay's and the inline pass's among them) leave at most about once a second. */
    private flushMetrics(): void {
      isolateMetrics().maybeFlush(this.env, platform.clock, (p) => this.ctx.waitUntil(p));
    }

    private registered(type: string) {
      const found = deciders.get(type);
      if (!found) throw new Error(`no module declares the aggregate type "${type}"`);
      return found;
    }

    private storeFor(stream: StreamInfo): AggregateStore<{ type: string }, NewEvent, unknown> {
      const key = streamKey(stream);
      if (this.store && this.key === key) return this.store;
      const pinned =
        this.key ??
        (this.schema.present(false)
          ? (this.ctx.storage.sql.exec<{ key: string }>("select key from stream").toArray()[0]?.key ?? null)
          : null);
      if (pinned !== null && pinned !== key) throw new Error(`this aggregate object serves ${pinned}, not ${key}`);
      this.store = new AggregateStore(this.ctx.storage, this.registered(stream.type).decider, stream);
      this.key = key;
      return this.store;
    }

    /**
     * Offboarding: refuses another tenant's id, then forgets everything, leaving a tombstone
     * (kernel/durable/tombstone.ts) after which no command is taken.
     */
    async eraseAll(input: RpcArgs<Rpc, "eraseAll">): Promise<RpcReply<Rpc, "eraseAll">> {
      const { tenant_id } = rpcArgs(AggregateRpc, "eraseAll", input);
      const sql = this.ctx.storage.sql;
      const own = this.schema.present(false)
        ? (sql.exec<{ key: string }>("select key from stream").toArray()[0]?.key ?? null)
        : null;
      if (own !== null && !own.startsWith(`${tenant_id}/`)) throw new WrongTenant("Aggregate");
      await wipeStorage(this.ctx.storage, () => {
        [this.store, this.key, this.pinned] = [null, null, false];
        this.schema.forget();
        markErased(this.ctx.storage.kv);
      });
      return { erased: true };
    }

    /** Decides and commits a command; `expectedVersion` makes it conditional (If-Match), `authorizedAt` pins it to the state authorized. */
    handle(input: RpcArgs<Rpc, "handle">): RpcReply<Rpc, "handle"> {
      const args = rpcArgs(AggregateRpc, "handle", input);
      // A command still in flight when the tenant's erasure came would start the stream again.
      if (isErased(this.ctx.storage.kv)) throw new TenantErased("Aggregate");
      const store = this.storeFor(args.stream);
      const fresh = !this.schema.present(false);
      try {
        const result = fresh ? this.firstWrite(store, args) : this.decide(store, args);
        if (!result.ok) return result;
        // A first write with no event rolled back (firstWrite): nothing to project or send, and a
        // drain would fail on the missing outbox, then store its retry (an alarm, a counter).
        if (fresh && result.events.length === 0) return { ok: true, version: 0, state: result.state, events: 0 };
        // Committed: project inline and send the new outbox rows now; the alarm retries if the queue refuses.
        const after = { stream: streamKey(args.stream), version: result.version, state: result.state };
        this.ctx.waitUntil(this.inline.push(result.events, after, this.ctx.id.toString()));
        this.relay.afterCommit(this.ctx, this.env.EVENTS, result.events.length);
        this.flushMetrics();
        return { ok: true, version: result.version, state: result.state, events: result.events.length };
      } catch (error) {
        // The transaction rolled back; drop any in-memory state and let the caller see the failure.
        store.reset();
        throw error;
      }
    }

    /** Pins the object to its stream: written once per object lifetime (it never changes). */
    private pin(): void {
      if (this.pinned) return;
      this.schema.present(true);
      this.ctx.storage.sql.exec("insert or ignore into stream (id, key) values (1, ?)", this.key);
      this.pinned = true;
    }

    private decide(store: AggregateStore<{ type: string }, NewEvent, unknown>, args: RpcArgs<Rpc, "handle">) {
      this.pin();
      return store.handle(args.command, {
        expectedVersion: args.expectedVersion,
        authorizedAt: args.authorizedAt,
        ctx: args.ctx,
        requestId: args.requestId,
        ipHash: args.ipHash,
        trace: traceCarrier(),
        snapshotEvery: this.registered(args.stream.type).snapshotEvery,
      });
    }

    /**
     * A command for a stream never written: its schema and stream row are kept only with the
     * events of a decision that took it. Ids are the client's (PATCH /posts/{id}), so a refused
     * command for an id nobody created left an object with storage per request, that no
     * stream catalog names and so no erasure reaches.
     */
    private firstWrite(store: AggregateStore<{ type: string }, NewEvent, unknown>, args: RpcArgs<Rpc, "handle">) {
      let result: ReturnType<typeof store.handle> | undefined;
      try {
        this.ctx.storage.transactionSync(() => {
          result = this.decide(store, args);
          if (!result.ok || result.events.length === 0) throw new NothingWritten();
        });
      } catch (error) {
        // Rolled back: the object is as it was, with no schema and no stream row.
        this.schema.forget();
        this.pinned = false;
        store.reset();
        if (!(error instanceof NothingWritten)) throw error;
      }
      if (!result) throw new Error("the aggregate's first write decided nothing");
      return result;
    }

    /** Current version and state; version 0 means the aggregate does not exist yet. */
    state(input: RpcArgs<Rpc, "state">): RpcReply<Rpc, "state"> {
      const { stream } = rpcArgs(AggregateRpc, "state", input);
      const store = this.storeFor(stream);
      if (!this.schema.present(false)) return { version: 0, state: this.registered(stream.type).decider.initialState };
      return store.current();
    }

    /** Stored events from `fromVersion`, oldest first: how projections fill gaps. */
    read(input: RpcArgs<Rpc, "read">): RpcReply<Rpc, "read"> {
      const { stream, fromVersion, limit } = rpcArgs(AggregateRpc, "read", input);
      // A projection filling a gap for a batch that outlived the erasure: refused, so it drops the
      // event (kernel/events/consume.ts) instead of retrying a gap the writer can never fill.
      if (isErased(this.ctx.storage.kv)) throw new TenantErased("Aggregate");
      const store = this.storeFor(stream);
      return this.schema.present(false) ? store.read(fromVersion, limit) : [];
    }
  };
}
