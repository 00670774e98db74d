import { chunked } from "../../kernel/db/params";
import type { Envelope } from "../../kernel/events/envelope";
import { subscribe } from "../../kernel/events/subscribe";
import type { Subscription } from "../../kernel/modules/types";
import { directory } from "../identity/directory/contract";
import { environmentNotifier } from "../identity/notifier";
import { registry } from "./contract";
import { WebhookEventSchema } from "./events";

/** Events per registry call: the registry's RPC bound. */
const DISPATCH_MAX = 500;

/**
 * Feeds every event to its tenant's webhook registry (one call per tenant
 * and batch, in the batch's order), which queues it at each endpoint that
 * wants it. The endpoints drop an event id they already hold, so a retried
 * batch queues nothing twice. Writes nothing to D1; throwing retries the
 * batch one event at a time.
 */
export const dispatchEvents: Subscription = {
  name: "dispatch",
  types: "*",
  async handleBatch(events, { env }) {
    const byTenant = new Map<string, Envelope[]>();
    for (const e of events) byTenant.set(e.tenant_id, [...(byTenant.get(e.tenant_id) ?? []), e]);
    await Promise.all(
      [...byTenant].map(async ([tenantId, list]) => {
        for (const part of chunked(list, DISPATCH_MAX)) await registry(env, tenantId).dispatch({ events: part });
      }),
    );
    return { writes: [] };
  },
};

/** Users who hear that an endpoint stopped: owners and admins of the tenant. */
const TOLD_ROLES = new Set(["owner", "admin"]);
const MAX_TOLD = 20;

/**
 * Tells a tenant's owners and admins by mail that one of its endpoints was
 * disabled, and why. (The event itself is in the audit log, and endpoints
 * subscribed to `webhooks.*` receive it too.)
 */
export const notifyDisabled = subscribe(
  "notify-disabled",
  WebhookEventSchema,
  ["webhooks.endpoint.disabled"],
  async (event, { env, config, clock, log }) => {
    const dir = directory(env, event.tenant_id);
    const recipients: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await dir.listUsers({ limit: 100, cursor });
      for (const user of page.items) {
        if (user.roles.some((r) => TOLD_ROLES.has(r)) && recipients.length < MAX_TOLD) recipients.push(user.email);
      }
      cursor = page.next;
    } while (cursor !== null && recipients.length < MAX_TOLD);
    const why = {
      failing: "every delivery attempt failed for too long",
      gone: "the receiver answered 410 Gone",
      secret_unreadable: "its signing secret can no longer be read (the tenant's key material was destroyed)",
    }[event.data.reason];
    const notifier = environmentNotifier(env, config.environment, clock, log);
    for (const to of recipients) {
      await notifier.send({
        tenantId: event.tenant_id,
        to,
        subject: `Webhook endpoint ${event.data.endpoint_id} was disabled`,
        body: [
          `Deliveries to your webhook endpoint ${event.data.endpoint_id} (${event.data.host}) have stopped: ${why}.`,
          event.data.failing_since
            ? `It has been failing since ${event.data.failing_since} (${event.data.failures} attempts).`
            : "",
          "Messages queued before it stopped stay queued and are sent when you enable it again;",
          "events that occur while it is disabled are not sent to it.",
          "Fix the receiver, then enable the endpoint again:",
          `PATCH /api/v1/admin/webhooks/${event.data.endpoint_id} {"enabled": true}`,
        ]
          .filter(Boolean)
          .join("\n"),
      });
    }
  },
);
