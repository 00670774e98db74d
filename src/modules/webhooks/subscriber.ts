import { membersWithRole } from "../../kernel/auth/member-directory";
import { findTenant } from "../../kernel/auth/tenant-registry";
import { sha256Hex } from "../../kernel/crypto";
import { chunked, groupBy } from "../../kernel/db/params";
import { subscribe } from "../../kernel/events/subscribe";
import type { Subscription } from "../../kernel/modules/types";
import { runtimeNotifier } from "../../kernel/notify/notifier";
import { registry } from "./contract";
import { disabledNotice } from "./disabled-notice";
import { WebhookEventSchema } from "./events";
import { endpointDisabledMail } from "./mail-templates";

/** Events per registry call: the registry's RPC bound. */
const DISPATCH_MAX = 500;

/**
 * Feeds every event to its tenant's webhook registry (one call per tenant
 * and batch, in the batch's order), which queues it at each endpoint that
 * wants it and was checked for it (an event a filter matches but the endpoint
 * was not checked for is held back, counted in one debug line per tenant and
 * batch). The endpoints drop an event id they already hold, so a retried
 * batch queues nothing twice. Writes nothing to D1; throwing retries the
 * batch one event at a time. Not rebuilt by replay (`rebuild: false`).
 */
export const dispatchEvents: Subscription = {
  name: "dispatch",
  types: "*",
  // Again is not the same: an endpoint enabled since, or one that has pruned the id from its
  // log, would be sent an event it was never meant to get, or get it twice.
  rebuild: false,
  async handleBatch(events, { env, log }) {
    const byTenant = groupBy(events, (e) => e.tenant_id);
    await Promise.all(
      [...byTenant].map(async ([tenantId, list]) => {
        let heldBack = 0;
        for (const part of chunked(list, DISPATCH_MAX)) {
          heldBack += (await registry(env, tenantId).dispatch({ events: part })).held_back;
        }
        // Expected, not a fault: a filter matched types its endpoint was never checked for (reads.ts).
        if (heldBack > 0)
          log.debug("webhook events held back from endpoints not checked for them", {
            tenant_id: tenantId,
            held_back: heldBack,
          });
      }),
    );
    return { writes: [] };
  },
};

/** Users who hear that an endpoint stopped: owners and admins of the tenant. */
const TOLD_ROLES = ["owner", "admin"];
const MAX_TOLD = 20;

/**
 * Whether a user is told: an active owner or admin whose email is verified. An unverified address
 * may not be theirs (anyone may register with an address they do not own, and a role is granted
 * to the account, not the mailbox), and this mail names the tenant, the receiver's host and how
 * its webhooks fail: as login under `require_verified_email` and a verification resend, it trusts
 * only an address that proved it reaches the person. A suspended one (someone who left, an
 * account under review) may not act on it, and the tenant's news is not theirs while it lasts.
 */
const told = (user: { roles: readonly string[]; email_verified: boolean; status: string }) =>
  user.status === "active" && user.email_verified && user.roles.some((r) => TOLD_ROLES.includes(r));

/**
 * Tells a tenant's active owners and admins whose email is verified, by mail, that one
 * of its endpoints was disabled, and why: by the delivery (`.disabled`) or by the
 * platform's operators (the `.updated` of their disabling, with their reason;
 * disabled-notice.ts decides). (The event itself is in the audit log, and
 * endpoints subscribed to `webhooks.*` receive it too; with nobody to tell, a
 * warning says so.) Each mail's id is derived from the event and the recipient,
 * so a retried event queues mail that is delivered once.
 */
export const notifyDisabled = subscribe(
  "notify-disabled",
  WebhookEventSchema,
  ["webhooks.endpoint.disabled", "webhooks.endpoint.updated"],
  async (event, runtime) => {
    const notice = disabledNotice(event);
    if (!notice) return;
    // Through the kernel's member lookup (runtime.modules), not identity's directory contract:
    // the first 100 owners and admins by id, of whom the first MAX_TOLD told ones.
    const recipients = (await membersWithRole(runtime, event.tenant_id, TOLD_ROLES))
      .filter(told)
      .slice(0, MAX_TOLD)
      .map((m) => m.email);
    if (recipients.length === 0) {
      runtime.log.warn("no verified owner or admin to tell of a disabled webhook endpoint", {
        tenant_id: event.tenant_id,
        endpoint_id: notice.endpointId,
      });
      return;
    }
    // Through the kernel's lookup (runtime.modules), not the tenants module's store.
    const tenant = await findTenant(runtime, event.tenant_id);
    const content = endpointDisabledMail({ tenantName: tenant?.name ?? event.tenant_id, ...notice });
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
