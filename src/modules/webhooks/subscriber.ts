import { sha256Hex } from "../../kernel/crypto";
import { chunked, groupBy } from "../../kernel/db/params";
import { subscribe } from "../../kernel/events/subscribe";
import type { Subscription } from "../../kernel/modules/types";
import { runtimeNotifier } from "../../kernel/notify/notifier";
import { directory } from "../identity/directory/contract";
import { tenantStore } from "../tenants/store";
import { registry } from "./contract";
import { WebhookEventSchema } from "./events";
import { endpointDisabledMail } from "./mail-templates";

/** Events per registry call: the registry's RPC bound. */
const DISPATCH_MAX = 500;

/**
 * Feeds every event to its tenant's webhook registry (one call per tenant
 * and batch, in the batch's order), which queues it at each endpoint that
 * wants it. The endpoints drop an event id they already hold, so a retried
 * batch queues nothing twice. Writes nothing to D1; throwing retries the
 * batch one event at a time. Not rebuilt by replay (`rebuild: false`).
 */
export const dispatchEvents: Subscription = {
  name: "dispatch",
  types: "*",
  // Again is not the same: an endpoint enabled since, or one that has pruned the id from its
  // log, would be sent an event it was never meant to get, or get it twice.
  rebuild: false,
  async handleBatch(events, { env }) {
    const byTenant = groupBy(events, (e) => e.tenant_id);
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
 * subscribed to `webhooks.*` receive it too.) Each mail's id is derived from
 * the event and the recipient, so a retried event queues mail that is
 * delivered once.
 */
export const notifyDisabled = subscribe(
  "notify-disabled",
  WebhookEventSchema,
  ["webhooks.endpoint.disabled"],
  async (event, runtime) => {
    const dir = directory(runtime.env, event.tenant_id);
    const recipients: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await dir.listUsers({ limit: 100, cursor });
      for (const user of page.items) {
        if (user.roles.some((r) => TOLD_ROLES.has(r)) && recipients.length < MAX_TOLD) recipients.push(user.email);
      }
      cursor = page.next;
    } while (cursor !== null && recipients.length < MAX_TOLD);
    if (recipients.length === 0) return;
    const tenant = await tenantStore(runtime.env.DB).find("id", event.tenant_id);
    const content = endpointDisabledMail({
      tenantName: tenant?.name ?? event.tenant_id,
      endpointId: event.data.endpoint_id,
      host: event.data.host,
      reason: event.data.reason,
      failingSince: event.data.failing_since,
      failures: event.data.failures,
    });
    const notifier = runtimeNotifier(runtime);
    for (const to of recipients) {
      await notifier.send({
        id: `webhooks-disabled.${(await sha256Hex(`${event.id}\u0000${to}`)).slice(0, 40)}`,
        tenantId: event.tenant_id,
        to,
        kind: "webhooks.endpoint-disabled",
        ...content,
      });
    }
  },
);
