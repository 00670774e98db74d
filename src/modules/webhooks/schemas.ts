import { z } from "@hono/zod-openapi";
import { PositionPageQuery } from "../../kernel/openapi/blocks";
import { AttemptSchema, DeliverySchema, DeliveryStatus, EndpointSchema } from "./contract";

/**
 * The request and response shapes the tenant's admin routes (routes.ts) and the platform's
 * (platform-routes.ts) share, so an operator's call takes the same body, with the same
 * limits, as the tenant's own.
 */
/**
 * An endpoint as the routes answer it: the registry's view, with `unknown_events` when some of its
 * filters match no event type published here, and `held_back_types` (filters.ts, `flagEndpoint`).
 */
export const EndpointAnswer = EndpointSchema.extend({
  unknown_events: z.array(z.string()).optional().openapi({
    description:
      "Filters matching no event type any registered module publishes (a module removed from the deployment): they receive nothing; the field is absent when there are none",
  }),
  checked_reads: EndpointSchema.shape.checked_reads.openapi({
    description:
      "The read permissions (the modules' `event_read`) its filters were checked for when last written: an event whose type is read with another is not sent to it. null for an endpoint written before they were recorded and not dispatched to since (its first dispatch records what its filters need then)",
  }),
  held_back_types: z.array(z.string()).openapi({
    description:
      "Event types published now that its filters match but that are read with a permission not among `checked_reads` (a later deploy ruled them so): they are not sent to it until its filters are written again by someone who holds that permission",
  }),
});
export const Endpoint = EndpointAnswer.openapi("WebhookEndpoint");
/**
 * A delivery as the routes answer it: without `event_type` for a tenant's caller who does not hold
 * the permission that reads the type (readable.ts, `visibleDelivery`).
 */
const DeliveryAnswer = DeliverySchema.extend({
  event_type: z.string().optional().openapi({
    description:
      "The event's type; absent when the caller does not hold the permission that reads events of that type (the modules' `event_read`)",
  }),
});
export const Delivery = DeliveryAnswer.openapi("WebhookDelivery");
export const DeliveryDetail = DeliveryAnswer.extend({ attempt_log: z.array(AttemptSchema) }).openapi(
  "WebhookDeliveryDetail",
);

/** `?limit&cursor&status`: a delivery's position in its endpoint's log, as next_cursor gives it. */
export const DeliveriesQuery = PositionPageQuery.extend({ status: DeliveryStatus.optional() });

/** `POST …/redeliver-failed`: the outage's start, and how many to send back in this call. */
export const RedeliverFailedBody = z.object({
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: "only deliveries given up at or after this time (RFC 3339)" }),
  limit: z.number().int().min(1).max(100).default(100),
});

export const RedeliveryBatch = z
  .object({ requeued: z.number().int(), remaining: z.number().int() })
  .openapi("WebhookRedeliveryBatch");

export const REDELIVER_FAILED_SUMMARY =
  "After an outage: send again up to `limit` deliveries given up (each as the same message, at the back of the queue, oldest first); recorded in the tenant's audit log (`webhooks.deliveries.redelivered`)";
/** The 409 of a route that sends to an endpoint (a test, a redelivery) while it is disabled. */
export const ENDPOINT_DISABLED_409 = "the endpoint is disabled (endpoint_disabled): enable it first";
export const REDELIVERY_BATCH_ANSWER = "how many went back in the queue; call again while `remaining` is above 0";
