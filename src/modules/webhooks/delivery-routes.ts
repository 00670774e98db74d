/**
 * `/api/v1/admin/webhooks/{id}/…`: test messages, the delivery log, and redelivery — what an
 * endpoint was sent, as its tenant's admins watch and replay it (the endpoints themselves:
 * routes.ts).
 */
import { z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../../generated/permissions";
import { tenantOf } from "../../kernel/auth/guards";
import { newId } from "../../kernel/crypto";
import { AppError } from "../../kernel/errors";
import { originOf } from "../../kernel/events/origin";
import { IdParam, jsonBody, jsonResponse, listOf } from "../../kernel/openapi/blocks";
import { operations } from "../../kernel/openapi/operation";
import { createRouter, problem } from "../../kernel/openapi/router";
import { endpointActor, registry } from "./contract";
import { visibleDelivery } from "./readable";
import { endpointOf } from "./routes";
import {
  DeliveriesQuery,
  Delivery,
  DeliveryDetail,
  ENDPOINT_DISABLED_409,
  REDELIVER_FAILED_SUMMARY,
  REDELIVERY_BATCH_ANSWER,
  RedeliverFailedBody,
  RedeliveryBatch,
} from "./schemas";
import { deliveryPage, disabled, foundEndpoint, notFound, redeliverFailed as requeueGivenUp } from "./service";

const op = operations(["webhooks"]);

const DeliveryParams = IdParam.extend({ delivery_id: z.string().min(1).max(64) });

const sendTest = op.post("/webhooks/{id}/test", {
  operationId: "sendWebhookTest",
  summary: "Queue a `webhooks.test` message to this endpoint, whatever its filters",
  access: PERMISSIONS.admin.webhooks.write,
  request: { params: IdParam },
  responses: {
    202: jsonResponse("queued", z.object({ message_id: z.string() })),
    404: problem("no such endpoint"),
    409: problem(ENDPOINT_DISABLED_409),
  },
});

const deliveries = op.get("/webhooks/{id}/deliveries", {
  operationId: "listWebhookDeliveries",
  summary: "The endpoint's delivery log, latest queued first (a redelivered delivery moves to the top)",
  access: PERMISSIONS.admin.webhooks.read,
  request: {
    params: IdParam,
    query: DeliveriesQuery,
  },
  responses: { 200: jsonResponse("a page of deliveries", listOf(Delivery)), 404: problem("no such endpoint") },
});

const delivery = op.get("/webhooks/{id}/deliveries/{delivery_id}", {
  operationId: "getWebhookDelivery",
  summary: "One delivery with each of its attempts",
  access: PERMISSIONS.admin.webhooks.read,
  request: { params: DeliveryParams },
  responses: { 200: jsonResponse("the delivery", DeliveryDetail), 404: problem("no such delivery") },
});

const redeliver = op.post("/webhooks/{id}/deliveries/{delivery_id}/redeliver", {
  operationId: "redeliverWebhook",
  summary:
    "Send a message again (same webhook-id), at the back of the endpoint's queue; recorded in the tenant's audit log (`webhooks.delivery.redelivered`)",
  access: PERMISSIONS.admin.webhooks.write,
  request: { params: DeliveryParams },
  responses: {
    202: jsonResponse("queued again", z.object({ id: z.string() })),
    404: problem("no such delivery"),
    409: problem(ENDPOINT_DISABLED_409),
  },
});

const redeliverFailed = op.post("/webhooks/{id}/redeliver-failed", {
  operationId: "redeliverFailedWebhooks",
  summary: REDELIVER_FAILED_SUMMARY,
  access: PERMISSIONS.admin.webhooks.write,
  request: { params: IdParam, body: jsonBody(RedeliverFailedBody) },
  responses: {
    200: jsonResponse(REDELIVERY_BATCH_ANSWER, RedeliveryBatch),
    404: problem("no such endpoint"),
    409: problem(ENDPOINT_DISABLED_409),
  },
});

/** The delivery side of `/api/v1/admin/webhooks`. */
export const webhookDeliveryRoutes = createRouter()
  .openapi(sendTest, async (c) => {
    const { id } = c.req.valid("param");
    const tenant = tenantOf(c);
    const messageId = newId(c.get("clock").now().getTime());
    const result = await registry(c.env, tenant.id).sendTest({
      ctx: originOf(c),
      tenant_id: tenant.id,
      id,
      message_id: messageId,
    });
    if (!result.ok && result.error === "disabled") throw disabled("tenant", tenant.id, id, await endpointOf(c, id));
    if (!result.ok) throw notFound();
    return c.json({ message_id: messageId }, 202);
  })
  .openapi(deliveries, async (c) => {
    const { id } = c.req.valid("param");
    const page = await deliveryPage(c.env, tenantOf(c).id, id, c.req.valid("query"));
    return c.json({ ...page, items: page.items.map((d) => visibleDelivery(c, d)) }, 200);
  })
  .openapi(delivery, async (c) => {
    const { id, delivery_id } = c.req.valid("param");
    const { reached } = await foundEndpoint(c.env, tenantOf(c).id, id);
    const found = reached ? await endpointActor(c.env, tenantOf(c).id, id).delivery({ id: delivery_id }) : null;
    if (!found) throw new AppError("not_found", { detail: "no such delivery" });
    return c.json(visibleDelivery(c, found), 200);
  })
  .openapi(redeliver, async (c) => {
    const { id, delivery_id } = c.req.valid("param");
    const { endpoint, reached } = await foundEndpoint(c.env, tenantOf(c).id, id);
    if (!endpoint.enabled) throw disabled("tenant", tenantOf(c).id, id, endpoint);
    // Nothing reached its actor: it has no delivery to send again.
    const result = reached
      ? await endpointActor(c.env, tenantOf(c).id, id).redeliver({ ctx: originOf(c), id: delivery_id })
      : { ok: false };
    if (!result.ok) throw new AppError("not_found", { detail: "no such delivery" });
    return c.json({ id: delivery_id }, 202);
  })
  .openapi(redeliverFailed, async (c) => {
    const { id } = c.req.valid("param");
    const caller = { ctx: originOf(c), way: "tenant" as const };
    return c.json(await requeueGivenUp(c.env, caller, tenantOf(c).id, id, c.req.valid("json")), 200);
  });
