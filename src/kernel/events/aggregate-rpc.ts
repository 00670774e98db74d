import { z } from "zod";
import { EraseRpc } from "../durable/erase";
import { defineRpc, rpcClient } from "../durable/rpc";
import { ExpectedVersionSchema } from "../http/if-match";
import type { Decider } from "./decider";
import { EnvelopeSchema, type Event, type NewEvent, parseStoredEvent } from "./envelope";
import { OriginSchema } from "./origin";

/** Where an aggregate lives: `<tenant>/<type>/<id>`. */
export const StreamSchema = z.object({
  tenantId: z.string().min(1).max(64),
  type: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
  id: z.string().min(1).max(64),
});

/**
 * The first version `read` returns: 1 or more, a safe integer (what zod's `int()` takes). Exported
 * so the replay route refuses a cursor whose next read would fall outside it (routes.ts) with a
 * 400 instead of the object refusing the call with a 500.
 */
export const FromVersionSchema = z.number().int().min(1);

const HandleErrorSchema = z.union([
  z.object({
    code: z.literal("validation_failed"),
    message: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })),
  }),
  z.object({ code: z.literal("version_conflict"), message: z.string(), current_version: z.number().int() }),
  z.object({ code: z.string(), message: z.string() }),
]);

/**
 * The Aggregate Durable Object's RPC contract. State crosses as a structured
 * value; the typed client ({@link aggregateOf}) parses it with the decider's
 * state schema and events with its event schema.
 */
export const AggregateRpc = defineRpc({
  /** Offboarding: forgets the aggregate's events, snapshots and outbox (refused for another tenant's stream). */
  ...EraseRpc,
  handle: {
    args: z.object({
      stream: StreamSchema,
      command: z.unknown(),
      expectedVersion: ExpectedVersionSchema.optional(),
      authorizedAt: z.number().int().min(0).optional(),
      // The request's origin (./origin.ts), as the command bus splits it.
      ctx: OriginSchema.pick({ now: true, actor: true }),
      requestId: OriginSchema.shape.requestId,
      ipHash: OriginSchema.shape.ipHash,
    }),
    reply: z.union([
      z.object({ ok: z.literal(true), version: z.number().int(), state: z.unknown(), events: z.number().int() }),
      z.object({ ok: z.literal(false), error: HandleErrorSchema }),
    ]),
  },
  state: {
    args: z.object({ stream: StreamSchema }),
    reply: z.object({ version: z.number().int().min(0), state: z.unknown() }),
  },
  read: {
    args: z.object({
      stream: StreamSchema,
      fromVersion: FromVersionSchema.default(1),
      limit: z.number().int().min(1).max(1000).default(1000),
    }),
    reply: z.array(EnvelopeSchema),
  },
});

/** Why a command was not applied, as the client reports it. */
export type HandleError = z.infer<typeof HandleErrorSchema>;

/** What `handle` did, with the state typed. */
export type Handled<S> = { ok: true; version: number; state: S; events: number } | { ok: false; error: HandleError };

/**
 * The typed client of one aggregate: the only way code outside the Aggregate
 * Durable Object reaches it. Replies are parsed with the contract, states
 * with `decider.stateSchema`, events with `decider.eventSchema`.
 *
 * @example
 * const post = aggregateOf(env, postDecider, tenant.id, id);
 * const { version, state } = await post.state();
 */
export function aggregateOf<C extends { type: string }, E extends NewEvent, S>(
  env: Env,
  decider: Decider<C, E, S>,
  tenantId: string,
  id: string,
) {
  const stream = { tenantId, type: decider.type, id };
  const rpc = rpcClient(AggregateRpc, env.AGGREGATE.getByName(`${tenantId}/${decider.type}/${id}`), "Aggregate");
  return {
    async handle(input: Omit<z.input<typeof AggregateRpc.handle.args>, "stream">): Promise<Handled<S>> {
      const reply = await rpc.handle({ ...input, stream });
      return reply.ok ? { ...reply, state: decider.stateSchema.parse(reply.state) } : reply;
    },
    /** Current version and state from the single writer (read-your-writes); version 0: it does not exist. */
    async state(): Promise<{ version: number; state: S }> {
      const reply = await rpc.state({ stream });
      return { version: reply.version, state: decider.stateSchema.parse(reply.state) };
    },
    /** Stored events from `fromVersion`, oldest first, parsed: how projections fill gaps. */
    async read(fromVersion: number, limit: number): Promise<Event<E>[]> {
      const envelopes = await rpc.read({ stream, fromVersion, limit });
      return envelopes.map((e) => ({ ...e, ...parseStoredEvent(decider.eventSchema, e) }));
    },
  };
}

/** The Aggregate named by a stream `<tenant>/<type>/<id>` as the stream catalog holds it: for offboarding, which erases it whatever its type. */
export function aggregateByName(env: Env, stream: string) {
  return rpcClient(AggregateRpc, env.AGGREGATE.getByName(stream), "Aggregate");
}
