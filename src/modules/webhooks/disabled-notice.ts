import type { Event } from "../../kernel/events/envelope";
import type { WebhookEvent } from "./events";
import type { DisabledReason } from "./mail-templates";

/** The events that may stop an endpoint: the delivery's own verdict, and a change (the platform's disabling). */
export type StoppingEvent = Event<
  Extract<WebhookEvent, { type: "webhooks.endpoint.disabled" | "webhooks.endpoint.updated" }>
>;

/** What a tenant's owners and admins are told of an endpoint that stopped. */
export type DisabledNotice = {
  endpointId: string;
  host: string;
  /** Why: the delivery's verdict, or `platform` (an operator disabled it, `note` their reason or null). */
  reason: DisabledReason | "platform";
  note: string | null;
  failingSince: string | null;
  failures: number;
};

/**
 * Whether an event stopped an endpoint that its tenant must hear of, and what to tell: every
 * `.disabled` (the delivery gave up), and the `.updated` of the platform's disabling, the one
 * change by the platform that leaves the endpoint disabled (it also records a new reason over its
 * own). Other changes are the tenant's own (an admin's disabling, an edit of an endpoint the
 * platform holds: its admins know) or turn it on again: null.
 */
export function disabledNotice(event: StoppingEvent): DisabledNotice | null {
  if (event.type === "webhooks.endpoint.disabled") {
    const d = event.data;
    return {
      endpointId: d.endpoint_id,
      host: d.host,
      reason: d.reason,
      note: null,
      failingSince: d.failing_since,
      failures: d.failures,
    };
  }
  const d = event.data;
  if (event.actor.kind !== "platform" || d.enabled || d.disabled_reason !== "platform") return null;
  return {
    endpointId: d.endpoint_id,
    host: d.host,
    reason: "platform",
    note: d.disabled_note ?? null,
    failingSince: null,
    failures: 0,
  };
}
