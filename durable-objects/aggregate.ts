import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { newId } from "../src/kernel/crypto";
import { migrateSqlite } from "../src/kernel/durable/sqlite-schema";
import {
  AGGREGATE_SCHEMA,
  type AggregateReply,
  AggregateStore,
  type StreamInfo,
} from "../src/kernel/events/aggregate-store";
import type { Decider, NewEvent } from "../src/kernel/events/decider";
import { OutboxRelay } from "../src/kernel/outbox/drain";
import { modules } from "../src/modules";

type AnyDecider = Decider<{ type: string }, NewEvent, unknown>;

// Every aggregate type the registered modules declare; the kernel names none.
const deciders = new Map<string, { decider: AnyDecider; snapshotEvery: number }>();
for (const m of modules) {
  for (const a of m.aggregates ?? [])
    deciders.set(a.decider.type, { decider: a.decider, snapshotEvery: a.snapshot_every ?? 50 });
}

const Stream = z.object({
  tenantId: z.string().min(1).max(64),
  type: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
  id: z.string().min(1).max(64),
});
const Actor = z.object({
  kind: z.enum(["user", "api_key", "platform", "system", "anonymous"]),
  id: z.string().max(64).nullable(),
});

/**
 * One per aggregate, named `<tenant>/<type>/<id>`: runs the module's pure
 * decider and is the single writer of the aggregate's events. A thin RPC
 * adapter over AggregateStore.
 */
export class Aggregate extends DurableObject<Env> {
  private store: AggregateStore<{ type: string }, NewEvent, unknown> | null = null;
  private streamKey: string | null = null;

  private migrated = false;
  private readonly relay: OutboxRelay;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.relay = new OutboxRelay(ctx.storage);
  }

  /** Retries the outbox drain (with backoff) and is the safety net after a crash mid-drain. */
  override async alarm(): Promise<void> {
    if (this.exists(false)) await this.relay.onAlarm(this.env.EVENTS);
  }

  /**
   * Creates the schema on the first write only: reading an aggregate that was
   * never written (a probe for a random id) leaves no storage behind.
   */
  private exists(create: boolean): boolean {
    if (this.migrated) return true;
    const present =
      this.ctx.storage.sql.exec("select 1 from sqlite_master where type = 'table' and name = '_schema'").toArray()
        .length > 0;
    if (present || create) {
      migrateSqlite(this.ctx.storage, AGGREGATE_SCHEMA);
      this.migrated = true;
    }
    return this.migrated;
  }

  private pinnedStream(): string | null {
    return this.ctx.storage.sql.exec<{ key: string }>("select key from stream").toArray()[0]?.key ?? null;
  }

  private storeFor(raw: unknown): AggregateStore<{ type: string }, NewEvent, unknown> {
    const stream: StreamInfo = Stream.parse(raw);
    const key = `${stream.tenantId}/${stream.type}/${stream.id}`;
    if (this.store && this.streamKey === key) return this.store;
    const pinned = this.streamKey ?? (this.exists(false) ? this.pinnedStream() : null);
    if (pinned !== null && pinned !== key) throw new Error(`this aggregate object serves ${pinned}, not ${key}`);
    const registered = deciders.get(stream.type);
    if (!registered) throw new Error(`no module declares the aggregate type "${stream.type}"`);
    this.store = new AggregateStore(this.ctx.storage, registered.decider, stream);
    this.streamKey = key;
    return this.store;
  }

  /** Decides and commits a command; `expectedVersion` makes it conditional (If-Match). */
  handle(input: {
    stream: StreamInfo;
    command: unknown;
    expectedVersion?: number;
    actor: { kind: string; id: string | null };
    requestId: string | null;
    ipHash?: string | null;
  }): AggregateReply {
    const store = this.storeFor(input.stream);
    this.exists(true);
    this.ctx.storage.sql.exec("insert or ignore into stream (id, key) values (1, ?)", this.streamKey);
    const args = z
      .object({
        expectedVersion: z.number().int().min(0).optional(),
        actor: Actor,
        requestId: z.string().max(128).nullable(),
        ipHash: z
          .string()
          .regex(/^[0-9a-f]{32}$/)
          .nullish(),
      })
      .parse(input);
    const snapshotEvery = deciders.get(input.stream.type)?.snapshotEvery ?? 50;
    try {
      const result = store.handle(input.command, {
        expectedVersion: args.expectedVersion,
        ctx: { now: new Date().toISOString(), actor: args.actor },
        requestId: args.requestId,
        ipHash: args.ipHash,
        snapshotEvery,
        newId: () => newId(),
      });
      if (!result.ok) return result;
      // Committed: send the new outbox rows now; the alarm retries if the queue refuses.
      this.relay.afterCommit(this.ctx, this.env.EVENTS);
      return { ok: true, version: result.version, state: JSON.stringify(result.state), events: result.events.length };
    } catch (error) {
      // The transaction rolled back; drop any in-memory state and let the caller see the failure.
      store.reset();
      throw error;
    }
  }

  /** Current version and state (JSON); version 0 means the aggregate does not exist yet. */
  state(input: { stream: StreamInfo }): { version: number; state: string } {
    const store = this.storeFor(input.stream);
    if (!this.exists(false))
      return { version: 0, state: JSON.stringify(deciders.get(input.stream.type)?.decider.initialState ?? null) };
    const { version, state } = store.current();
    return { version, state: JSON.stringify(state) };
  }

  /** Stored events (JSON) from `fromVersion`, oldest first: how projections fill gaps. */
  read(input: { stream: StreamInfo; fromVersion?: number; limit?: number }): string[] {
    const { fromVersion, limit } = z
      .object({
        fromVersion: z.number().int().min(1).default(1),
        limit: z.number().int().min(1).max(1000).default(1000),
      })
      .parse({ fromVersion: input.fromVersion, limit: input.limit });
    const store = this.storeFor(input.stream);
    if (!this.exists(false)) return [];
    return store.read(fromVersion, limit).map((e) => JSON.stringify(e));
  }
}
