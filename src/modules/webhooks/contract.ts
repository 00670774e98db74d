import { z } from "zod";
import { MAX_PERMISSION_LENGTH } from "../../kernel/auth/permissions";
import { EraseRpc } from "../../kernel/durable/erase";
import { defineRpc, rpcClient } from "../../kernel/durable/rpc";
import { EnvelopeSchema } from "../../kernel/events/envelope";
import { OriginSchema } from "../../kernel/events/origin";
import { ExpectedVersionSchema } from "../../kernel/http/if-match";
import { EventFilter } from "./domain";

/**
 * The RPC contracts of the module's two actors (kernel/actors):
 *
 * - `WebhookRegistry`, one per tenant (named by the tenant id): the single
 *   writer of the tenant's endpoints (URL, filters, sealed signing secrets),
 *   the fan-out of the tenant's events to its endpoints, and the tenant's
 *   delivery bulkhead.
 * - `WebhookEndpoint`, one per endpoint (named `<tenant>/<endpoint id>`): its
 *   ordered delivery queue, attempts, retries, circuit breaker and log.
 */

const Id = z.string().min(1).max(64);
/** The longest endpoint URL kept, as the WHATWG parser writes it out (the route checks it after normalising). */
export const WEBHOOK_URL_MAX = 2048;
const Url = z.string().max(WEBHOOK_URL_MAX);
const Filters = z.array(EventFilter).min(1).max(50);
/** Read permissions (modules' `event_read`): what an endpoint's filters were checked for (reads.ts). */
const Reads = z.array(z.string().min(1).max(MAX_PERMISSION_LENGTH)).max(500);

/** A signing secret as stored: sealed with the tenant's envelope key; the previous one expires. */
export const SealedSecret = z.object({ sealed: z.string().max(1024), expires_at: z.number().int().nullable() });

/** An endpoint as the admin API shows it (never a secret). */
export const EndpointSchema = z.object({
  id: Id,
  url: Url,
  description: z.string().max(500),
  events: z.array(z.string()),
  enabled: z.boolean(),
  /**
   * Why delivery stopped, when not one of the tenant's admins stopped it (null then, and while
   * enabled): `failing`, `gone`, `secret_unreadable` (the delivery's own verdicts), or `platform`
   * (a platform operator disabled it, for `disabled_note`).
   */
  disabled_reason: z.enum(["failing", "gone", "secret_unreadable", "platform"]).nullable(),
  /** The operator's reason when the platform disabled it (null without one, and otherwise): shown to the tenant's admins. */
  disabled_note: z.string().max(200).nullable(),
  version: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
  /** What its filters were checked for when last written (reads.ts); null before that was recorded. */
  checked_reads: Reads.nullable(),
});
export type EndpointView = z.infer<typeof EndpointSchema>;

/** What an endpoint actor needs to deliver: pushed by the registry with every change and every message. */
export const EndpointConfigSchema = z.object({
  tenant_id: Id,
  endpoint_id: Id,
  url: Url,
  secrets: z.array(SealedSecret).min(1).max(2),
  enabled: z.boolean(),
  version: z.number().int(),
});
export type EndpointConfig = z.infer<typeof EndpointConfigSchema>;

const Page = z.object({ limit: z.number().int().min(1).max(100), cursor: z.string().max(64).nullable() });
const Sealed = z.string().min(1).max(1024);
const Resealed = z.object({ resealed: z.number().int().min(0), raced: z.number().int().min(0) });
const Changed = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), endpoint: EndpointSchema }),
  z.object({ ok: z.literal(false), error: z.literal("not_found") }),
]);
/** A change refused: the platform disabled the endpoint, and only it enables it (`note`: its reason). */
const PlatformHeld = z.object({
  ok: z.literal(false),
  error: z.literal("platform_disabled"),
  note: z.string().max(200).nullable(),
});
/** A conditional write refused: If-Match named another version than the endpoint's `current_version`. */
const Stale = z.object({
  ok: z.literal(false),
  error: z.literal("version_conflict"),
  current_version: z.number().int(),
});

export const RegistryRpc = defineRpc({
  /** Offboarding: forgets every endpoint and its sealed secrets. */
  ...EraseRpc,
  create: {
    args: z.object({
      ctx: OriginSchema,
      tenant_id: Id,
      endpoint: z.object({
        id: Id,
        url: Url,
        description: z.string().max(500),
        events: Filters,
        sealed_secret: z.string().max(1024),
        /** The permissions its filters need, each of which the route checked the caller holds. */
        reads: Reads,
      }),
    }),
    reply: z.discriminatedUnion("ok", [
      z.object({ ok: z.literal(true), endpoint: EndpointSchema }),
      z.object({ ok: z.literal(false), error: z.literal("limit_reached"), limit: z.number().int() }),
    ]),
  },
  /**
   * Offboarding's first step (erasure.ts): from now on the registry takes no new or changed
   * endpoint and hands its endpoint actors nothing (no dispatch, test delivery or config push),
   * so the endpoints it lists are all there is to erase. Kept, across runs, until `eraseAll`.
   */
  beginErasure: {
    args: z.object({ tenant_id: Id }),
    /** Endpoints removed whose actor's purge has not run yet: the erasure empties those actors too. */
    reply: z.object({ removed: z.array(Id) }),
  },
  list: { args: Page, reply: z.object({ items: z.array(EndpointSchema), next: z.string().nullable() }) },
  /**
   * One endpoint, and whether its actor was reached yet (unreached.ts): before, the actor holds
   * nothing, and its reads are answered without opening it (an object nothing would remove).
   */
  get: { args: z.object({ id: Id }), reply: z.object({ endpoint: EndpointSchema, reached: z.boolean() }).nullable() },
  update: {
    args: z.object({
      ctx: OriginSchema,
      tenant_id: Id,
      id: Id,
      expected_version: ExpectedVersionSchema.optional(),
      patch: z.object({
        url: Url.optional(),
        description: z.string().max(500).optional(),
        events: Filters.optional(),
        enabled: z.boolean().optional(),
        /**
         * With a change of `events` or `url`: the permissions the endpoint's filters need now, and
         * those of them the caller holds; the registry keeps those held or checked for before
         * (reads.ts, `readsAfterWrite`).
         */
        reads: z.object({ needed: Reads, granted: Reads }).optional(),
      }),
      /**
       * A platform operator's disabling (with `patch.enabled: false`): recorded as `platform`, with
       * the operator's reason (null: none given), for the tenant's admins to read.
       */
      platform_disable: z.object({ note: z.string().max(200).nullable() }).optional(),
    }),
    /**
     * `platform_disabled`: the tenant enabling an endpoint the platform disabled (domain.ts,
     * `heldByPlatform`), with the operator's note; the platform (`ctx.actor`) enables it.
     */
    reply: z.union([Changed, Stale, PlatformHeld]),
  },
  rotate: {
    args: z.object({
      ctx: OriginSchema,
      tenant_id: Id,
      id: Id,
      sealed_secret: z.string().max(1024),
      keep_previous_ms: z.number().int(),
    }),
    reply: Changed,
  },
  remove: {
    args: z.object({ ctx: OriginSchema, tenant_id: Id, id: Id, expected_version: ExpectedVersionSchema.optional() }),
    reply: z.union([
      /** `version`: the deletion's, one past the endpoint's last (the 204's ETag, as a role's deletion). */
      z.object({ ok: z.literal(true), version: z.number().int() }),
      z.object({ ok: z.literal(false), error: z.literal("not_found") }),
      Stale,
    ]),
  },
  /** Sends a `webhooks.test` message to one endpoint, whatever its filters. */
  sendTest: {
    args: z.object({ ctx: OriginSchema, tenant_id: Id, id: Id, message_id: Id }),
    reply: z.union([
      z.object({ ok: z.literal(true) }),
      z.object({ ok: z.literal(false), error: z.enum(["not_found", "disabled"]) }),
    ]),
  },
  /**
   * Routes a batch of the tenant's events to the endpoints that want them and were checked for
   * them: `routed` messages queued, `held_back` matched by a filter but read with a permission
   * the endpoint was not checked for (reads.ts).
   */
  dispatch: {
    args: z.object({ events: z.array(EnvelopeSchema).max(500) }),
    reply: z.object({ routed: z.number(), held_back: z.number() }),
  },
  /** From an endpoint actor: it stopped delivering. */
  disabled: {
    args: z.object({
      id: Id,
      reason: z.enum(["failing", "gone", "secret_unreadable"]),
      failures: z.number().int(),
      failing_since: z.string().nullable(),
      config_version: z.number().int(),
    }),
    reply: z.object({ ok: z.boolean() }),
  },
  /** The tenant's delivery bulkhead: a permit to deliver now, or when to ask again. */
  acquire: {
    args: z.object({ holder: Id }),
    reply: z.discriminatedUnion("granted", [
      z.object({ granted: z.literal(true), lease: Id }),
      z.object({ granted: z.literal(false), retry_in_ms: z.number().int() }),
    ]),
  },
  release: { args: z.object({ lease: Id }), reply: z.object({}) },
  /**
   * Re-encryption (docs/crypto.md): every endpoint's sealed secrets, as stored, and whether its
   * actor was reached (only then may it hold a copy).
   */
  sealedSecrets: {
    args: z.object({}),
    reply: z.array(z.object({ endpoint_id: Id, sealed: z.string(), reached: z.boolean() })),
  },
  /** Swaps in re-sealed secrets that still hold `from`; the endpoint's version stays (same secrets). */
  resealSecrets: {
    args: z.object({ reseals: z.array(z.object({ endpoint_id: Id, from: Sealed, to: Sealed })).max(200) }),
    reply: Resealed,
  },
});

/** One message as an endpoint queues it: its id (the `webhook-id`), type, and the exact body sent. */
export const OutgoingMessage = z.object({
  message_id: Id,
  type: z.string().max(200),
  occurred_at: z.string(),
  body: z.string().max(200_000),
});
export type OutgoingMessage = z.infer<typeof OutgoingMessage>;

export const DeliveryStatus = z.enum(["pending", "delivered", "failed"]);

/** A delivery as the log shows it. */
export const DeliverySchema = z.object({
  id: Id,
  message_id: Id,
  event_type: z.string(),
  status: DeliveryStatus,
  attempts: z.number().int(),
  response_status: z.number().int().nullable(),
  latency_ms: z.number().int().nullable(),
  last_error: z.string().nullable(),
  next_attempt_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type DeliveryView = z.infer<typeof DeliverySchema>;

export const AttemptSchema = z.object({
  at: z.string(),
  outcome: z.enum(["delivered", "rejected", "unreachable", "refused"]),
  response_status: z.number().int().nullable(),
  latency_ms: z.number().int(),
  /** The start of the receiver's answer (at most a few KiB) or the error, for debugging. */
  response: z.string().nullable(),
  /**
   * Present when the attempt was not one plain send: "sent twice: the first connection was lost
   * before any answer (…)" (attempt.ts). Optional, so an object not yet migrated still answers.
   */
  note: z
    .string()
    .optional()
    .describe(
      "How the attempt was sent when not as one plain send: a second send at once after the first connection was lost before any answer",
    ),
});

export const EndpointRpc = defineRpc({
  /** Offboarding: forgets the endpoint's config, secret copy and pending deliveries. */
  ...EraseRpc,
  enqueue: {
    args: z.object({ config: EndpointConfigSchema, messages: z.array(OutgoingMessage).max(500) }),
    reply: z.object({ queued: z.number().int() }),
  },
  configure: { args: z.object({ config: EndpointConfigSchema }), reply: z.object({}) },
  /**
   * Its endpoint deleted: forgets its queue, log, state and secret copy, then its storage as a
   * whole. `emptied` false: a delivery still in flight (or an event not yet sent) kept the
   * storage for now; purged again later, it goes then.
   */
  purge: { args: z.object({}), reply: z.object({ emptied: z.boolean() }) },
  deliveries: {
    args: Page.extend({ status: DeliveryStatus.optional() }),
    reply: z.object({ items: z.array(DeliverySchema), next: z.string().nullable() }),
  },
  delivery: {
    args: z.object({ id: Id }),
    reply: DeliverySchema.extend({ attempt_log: z.array(AttemptSchema) }).nullable(),
  },
  /** One delivery sent again; recorded for the tenant's audit log as `ctx`'s when it was not still pending. */
  redeliver: { args: z.object({ ctx: OriginSchema, id: Id }), reply: z.object({ ok: z.boolean() }) },
  /**
   * After an outage: up to `limit` failed deliveries (given up since `since`, epoch ms) back in
   * the queue; recorded for the tenant's audit log as `ctx`'s when it requeued any.
   */
  redeliverFailed: {
    args: z.object({ ctx: OriginSchema, since: z.number().int().nullable(), limit: z.number().int().min(1).max(100) }),
    reply: z.object({ requeued: z.number().int(), remaining: z.number().int() }),
  },
  health: {
    args: z.object({}),
    reply: z.object({
      breaker: z.enum(["closed", "open", "half_open"]),
      failing_since: z.string().nullable(),
      failures: z.number().int(),
      pending: z.number().int(),
    }),
  },
  /**
   * The event types of the deliveries it keeps, queued or in its log (a redelivery sends one to the
   * endpoint's URL of the time), test messages aside: what a new URL would receive (readable.ts).
   */
  keptTypes: { args: z.object({}), reply: z.array(z.string()) },
  /** Re-encryption: the sealed secrets of the config this actor keeps (a copy of the registry's). */
  sealedSecrets: { args: z.object({}), reply: z.array(z.string()) },
  resealSecrets: {
    args: z.object({ reseals: z.array(z.object({ from: Sealed, to: Sealed })).max(2) }),
    reply: Resealed,
  },
});

/** The tenant's webhook registry. */
export const registry = (env: Env, tenantId: string) =>
  rpcClient(RegistryRpc, env.WEBHOOK_REGISTRY.getByName(tenantId), "WebhookRegistry");

/** One endpoint's delivery actor. */
export const endpointActor = (env: Env, tenantId: string, endpointId: string) =>
  rpcClient(EndpointRpc, env.WEBHOOK_ENDPOINT.getByName(`${tenantId}/${endpointId}`), "WebhookEndpoint");
