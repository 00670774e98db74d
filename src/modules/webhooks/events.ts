import { z } from "zod";

const Id = z.string().min(1).max(64);
const Host = z.string().max(300);

/**
 * The webhooks module's events. An endpoint's URL appears only as its host:
 * receivers often carry a token in the path or query, and events reach the
 * audit log and every subscriber.
 */
export const WebhookEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("webhooks.endpoint.created"),
    data: z.object({ endpoint_id: Id, host: Host, events: z.array(z.string()) }),
  }),
  z.object({
    type: z.literal("webhooks.endpoint.updated"),
    data: z.object({
      endpoint_id: Id,
      host: Host,
      events: z.array(z.string()),
      enabled: z.boolean(),
      /**
       * Why it is disabled after the change, as the endpoint's view says it (`platform` with the
       * operator's `disabled_note`); null when enabled. Absent from events stored before they were added.
       */
      disabled_reason: z.enum(["failing", "gone", "secret_unreadable", "platform"]).nullable().optional(),
      disabled_note: z.string().max(200).nullable().optional(),
    }),
  }),
  z.object({ type: z.literal("webhooks.endpoint.deleted"), data: z.object({ endpoint_id: Id }) }),
  /** One delivery sent again (`…/deliveries/{delivery_id}/redeliver`), at the back of the endpoint's queue. */
  z.object({
    type: z.literal("webhooks.delivery.redelivered"),
    data: z.object({ endpoint_id: Id, delivery_id: Id, message_id: Id }),
  }),
  /** Deliveries given up, put back in the endpoint's queue at once (`redeliver-failed`); `since` as asked, or null. */
  z.object({
    type: z.literal("webhooks.deliveries.redelivered"),
    data: z.object({
      endpoint_id: Id,
      requeued: z.number().int(),
      remaining: z.number().int(),
      since: z.string().nullable(),
      limit: z.number().int(),
    }),
  }),
  z.object({ type: z.literal("webhooks.endpoint.secret_rotated"), data: z.object({ endpoint_id: Id }) }),
  z.object({
    type: z.literal("webhooks.endpoint.disabled"),
    data: z.object({
      endpoint_id: Id,
      host: Host,
      /** `failing`: every attempt failed for the policy's time; `gone`: the receiver answered 410; `secret_unreadable`: the tenant's key material was destroyed. */
      reason: z.enum(["failing", "gone", "secret_unreadable"]),
      failures: z.number().int(),
      failing_since: z.string().nullable(),
    }),
  }),
]);
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;
