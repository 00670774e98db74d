import type { ActorAddress, ActorEvent } from "../../kernel/actors";
import type { Origin } from "../../kernel/events/origin";

// The audit events of deliveries sent again: a `redeliver-failed` batch, or one delivery.

/** One `redeliver-failed` call as its endpoint actor ran it: what it asked, what went back in the queue. */
export interface Redelivery {
  tenantId: string;
  endpointId: string;
  /** RFC 3339 (UTC), or null for every delivery given up. */
  since: string | null;
  limit: number;
  requeued: number;
  remaining: number;
}

/**
 * Where an endpoint's actor records its own events (redeliveries, its escalations): a stream of
 * its own beside the registry's `<tenant>/webhook/<id>`, since each writer numbers its streams'
 * versions, and two writers counting one stream would read as duplicates to a projection.
 */
export const endpointActorAddress = (r: Pick<Redelivery, "tenantId" | "endpointId">): ActorAddress => ({
  tenantId: r.tenantId,
  stream: `${r.tenantId}/webhook/${r.endpointId}/deliveries`,
});

/**
 * `webhooks.deliveries.redelivered`: payloads sent again to a receiver, so the tenant's audit
 * log says who did it (the admin's key or user, or the platform), for which endpoint, how many
 * and since when. Only for a call that requeued some: one that found none resent nothing.
 */
export function redeliveredEvent(ctx: Origin, r: Redelivery): ActorEvent {
  const facts = {
    endpoint_id: r.endpointId,
    requeued: r.requeued,
    remaining: r.remaining,
    since: r.since,
    limit: r.limit,
  };
  return {
    type: "webhooks.deliveries.redelivered",
    data: facts,
    audit: facts,
    actor: ctx.actor,
    requestId: ctx.requestId,
    ipHash: ctx.ipHash ?? null,
  };
}

/** `webhooks.delivery.redelivered`: one delivery's payload sent again, by `ctx`'s caller. */
export function redeliveredOneEvent(
  ctx: Origin,
  r: Pick<Redelivery, "endpointId"> & { deliveryId: string; messageId: string },
): ActorEvent {
  const facts = { endpoint_id: r.endpointId, delivery_id: r.deliveryId, message_id: r.messageId };
  return {
    type: "webhooks.delivery.redelivered",
    data: facts,
    audit: facts,
    actor: ctx.actor,
    requestId: ctx.requestId,
    ipHash: ctx.ipHash ?? null,
  };
}
