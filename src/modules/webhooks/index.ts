import type { ModuleDef } from "../../kernel/modules/types";
import { createRouter } from "../../kernel/openapi/router";
import { webhookDeliveryRoutes } from "./delivery-routes";
import { webhooksErasure } from "./erasure";
import { webhookErrors } from "./errors";
import { WebhookEventSchema } from "./events";
import { manifest } from "./manifest";
import { platformWebhookRoutes } from "./platform-routes";
import { WEBHOOK_VARIABLES } from "./policy";
import { webhookRoutes } from "./routes";
import { webhooksSealed } from "./sealed";
import { dispatchEvents, notifyDisabled } from "./subscriber";

/**
 * The `webhooks` module factory: endpoints under `/api/v1/admin/webhooks` (and, for
 * operators, `/api/v1/platform/tenants/{tenant_id}/webhooks`),
 * each delivered by its own actor (the WebhookEndpoint Durable Object) from
 * the event queue through the tenant's WebhookRegistry. See docs/webhooks.md.
 */
export const webhooks = () =>
  ({
    ...manifest,
    errors: webhookErrors,
    routes: createRouter()
      .route("/admin", webhookRoutes)
      .route("/admin", webhookDeliveryRoutes)
      .route("/platform", platformWebhookRoutes),
    events: { publishes: WebhookEventSchema, subscribes: [dispatchEvents, notifyDisabled] },
    bindings: { WEBHOOK_REGISTRY: "durable_object", WEBHOOK_ENDPOINT: "durable_object" },
    variables: WEBHOOK_VARIABLES,
    sealed: webhooksSealed,
    erasure: webhooksErasure,
  }) satisfies ModuleDef;
