import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { DeciderRegistry } from "../../../durable-objects/aggregate";
import { deletedTenants } from "../auth/tenant-registry";
import type { TenantLookup } from "../auth/types";
import { unknownTenantId } from "../auth/unknown-tenant";
import type { AppEnv } from "../env";
import { background } from "../http/background";
import type { ModuleDef } from "../modules/types";
import { jsonBody, jsonResponse } from "../openapi/blocks";
import { operations } from "../openapi/operation";
import { createRouter, problem } from "../openapi/router";
import { FromVersionSchema } from "./aggregate-rpc";
import { consumerStats, routesOf } from "./consume";
import type { TenantWalk } from "./rebuild-state";
import { REPLAY_EVENTS_PER_CALL, replayPage } from "./replay";

const n = () => z.number().int().min(0);
const ConsumerStatsSchema = z
  .object({
    scope: z.literal("isolate"),
    queue: z.object({ batches: n(), messages: n(), events: n(), applied: n(), d1_round_trips: n() }),
    inline: z.object({
      passes: n(),
      events: n(),
      applied: n(),
      deferred: n(),
      failed: n(),
      stalled: n(),
      d1_round_trips: n(),
    }),
  })
  .openapi("ConsumerStats");

/**
 * Whether the place a cursor names (`<n>@…`) can be read on from: the next read starts at `n + 1`
 * (a stream's version, an audit seq), which the objects take only as a safe integer
 * (Aggregate.read's `fromVersion`; a RebuildSource reads its positions the same way). A longer run
 * of digits made the object refuse the call, a 500; no `next` a replay answers is that far.
 */
function resumable(after: string): boolean {
  const position = /^(\d+)@/.exec(after)?.[1];
  return position === undefined || FromVersionSchema.safeParse(Number(position) + 1).success;
}

const ReplayRequestSchema = z
  .object({
    consumer: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*:[a-z][a-z0-9._-]*$/)
      .openapi({ example: "blog:blog.posts" }),
    tenant_id: z.string().min(1).max(64).optional(),
    after: z
      .string()
      .min(1)
      .max(420)
      // A stream (`<tenant>/<type>/<id>`) or a tenant, or a place inside one (`<n>@…`): what `next` holds.
      .regex(/^(\d+@)?[^/@]+(\/[^/]+\/.+)?$/, "must be a `next` value a replay answered, passed back as it is")
      .refine(resumable, "its position (before @) is past any a replay answers: pass `next` back as it is")
      .optional()
      .openapi({ description: "the previous call's `next`, passed back as it is" }),
    limit: z
      .number()
      .int()
      .min(1)
      .max(500)
      .default(50)
      .openapi({ description: "streams per call (tenants, in a rebuild from state)" }),
    max_events: z.number().int().min(1).max(REPLAY_EVENTS_PER_CALL).default(REPLAY_EVENTS_PER_CALL).openapi({
      description:
        "events (records, in a rebuild from state) read per call at most; a longer stream (tenant) goes on in the next call",
    }),
    rebuild: z.boolean().default(false).openapi({
      description:
        "apply every event again; a subscription whose read model its objects hold whole (one declaring `rebuildFrom`, e.g. `audit:log`) is copied from their state instead",
    }),
  })
  .openapi("ReplayRequest");

const EventsProgressSchema = z
  .object({
    consumer: z.string(),
    source: z.literal("events").openapi({ description: "the writers' events were applied" }),
    streams: n().openapi({ description: "streams read to their end by this call" }),
    events: n().openapi({ description: "events read from the writers" }),
    applied: n().openapi({ description: "events applied to the subscription (all of them with rebuild)" }),
    next: z.string().nullable().openapi({ description: "the `after` of the next call; null when done" }),
    unreadable: z.array(z.string()).openapi({
      description:
        "event types the subscription wants that no replay can read (their writers keep no event log); not applied",
    }),
    rebuild_from_state: z.boolean().openapi({
      description:
        "whether the subscription's read model can be copied whole from its objects' state instead (`rebuild: true`), unreadable event types included",
    }),
  })
  .openapi("ReplayProgress");

const StateProgressSchema = z
  .object({
    consumer: z.string(),
    source: z.literal("state").openapi({
      description: "a rebuild of a read model copied from its objects' own state (e.g. the audit log's chains)",
    }),
    tenants: n().openapi({ description: "tenants whose records this call read to their end" }),
    records: n().openapi({ description: "records read from the tenants' objects" }),
    written: n().openapi({ description: "read-model rows the call's writes changed: 0 over an intact read model" }),
    next: z.string().nullable().openapi({ description: "the `after` of the next call; null when done" }),
  })
  .openapi("StateRebuildProgress");

const ReplayAnswerSchema = z.discriminatedUnion("source", [EventsProgressSchema, StateProgressSchema]);

const op = operations(["platform"]);

const consumer = op.get("/platform/events/consumer", {
  operationId: "getConsumerStats",
  summary: "This isolate's event consumer figures since it started (queue batches and inline passes, D1 round trips)",
  access: "platform",
  responses: { 200: jsonResponse("the figures", ConsumerStatsSchema) },
});

const replay = op.post("/platform/events/replay", {
  operationId: "replayEvents",
  summary:
    "Replay the writers' events to one subscription, a page of streams per call (backfill, catch-up, rebuild); rebuild a read model its objects hold whole from their state, a page of tenants per call",
  access: "platform",
  request: { body: jsonBody(ReplayRequestSchema) },
  responses: {
    200: jsonResponse("what the call did; `next` is the `after` of the next call, null when done", ReplayAnswerSchema),
    404: problem("no such subscription, or no such tenant (`tenant_id`)"),
  },
});

/** The tenant registry as a rebuild from state walks it, for this request. */
function tenantWalk(tenants: TenantLookup | undefined, c: Context<AppEnv>): TenantWalk | undefined {
  if (!tenants) return undefined;
  return {
    ids: (after, limit) => tenants.ids(c.env, after, limit),
    exists: async (id) => (await tenants.byId(id, c)) !== null,
  };
}

/**
 * The kernel's event operations for the platform operator, mounted under
 * `/api/v1`: the consumers' figures and replay (`plinth events replay`).
 */
export function eventOperations(platform: {
  modules: readonly ModuleDef[];
  deciders: DeciderRegistry;
  /** Resolves `tenant_id`, so a replay of a tenant nobody has is refused, not reported as done with nothing. */
  tenants?: TenantLookup;
}) {
  const routes = routesOf(platform.modules);
  return createRouter()
    .openapi(consumer, (c) => c.json({ scope: "isolate" as const, ...consumerStats }, 200))
    .openapi(replay, async (c) => {
      const body = c.req.valid("json");
      if (body.tenant_id !== undefined && platform.tenants && !(await platform.tenants.byId(body.tenant_id, c))) {
        const tenants = platform.tenants;
        throw await unknownTenantId(body.tenant_id, (slug) => tenants.bySlug(slug, c), "tenant_id");
      }
      const progress = await replayPage(
        {
          modules: platform.modules,
          routes,
          deciders: platform.deciders,
          tenants: tenantWalk(platform.tenants, c),
          gone: (ids) => deletedTenants(platform.tenants, c.env, ids),
        },
        {
          env: c.env,
          config: c.get("config"),
          log: c.get("log"),
          clock: c.get("clock"),
          modules: platform.modules,
          waitUntil: (p) => background(c, p),
        },
        {
          consumer: body.consumer,
          tenantId: body.tenant_id,
          after: body.after,
          limit: body.limit,
          maxEvents: body.max_events,
          rebuild: body.rebuild,
        },
      );
      return c.json(progress, 200);
    });
}
