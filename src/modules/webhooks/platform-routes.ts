import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { unknownPlatformTenant } from "../../kernel/auth/unknown-tenant";
import type { AppEnv } from "../../kernel/env";
import { originOf } from "../../kernel/events/origin";
import {
  DisplayName,
  ETAG_HEADER,
  IdPageQuery,
  IfMatchHeader,
  ifMatch,
  jsonBody,
  jsonResponse,
  listOf,
} from "../../kernel/openapi/blocks";
import { operations } from "../../kernel/openapi/operation";
import { createRouter, problem } from "../../kernel/openapi/router";
import { flagEndpoint, flagPage } from "./filters";
import {
  DeliveriesQuery,
  Delivery,
  ENDPOINT_DISABLED_409,
  Endpoint,
  REDELIVER_FAILED_SUMMARY,
  REDELIVERY_BATCH_ANSWER,
  RedeliverFailedBody,
  RedeliveryBatch,
} from "./schemas";
import { deliveryPage, endpointPage, redeliverFailed, setEndpointEnabled } from "./service";

const op = operations(["platform"]);

const Id = z.string().min(1).max(64);
const TenantParam = z.object({ tenant_id: Id });
const EndpointParams = TenantParam.extend({ id: Id });
const NO_TENANT = "no such tenant (deleted ones included)";
const NO_ENDPOINT = "no such tenant, or no such endpoint of it";

const list = op.get("/tenants/{tenant_id}/webhooks", {
  operationId: "listTenantWebhookEndpoints",
  summary: "A tenant's webhook endpoints, newest first (never their secrets): for an operator handling an incident",
  access: "platform",
  request: { params: TenantParam, query: IdPageQuery },
  responses: { 200: jsonResponse("a page of endpoints", listOf(Endpoint)), 404: problem(NO_TENANT) },
});

const deliveries = op.get("/tenants/{tenant_id}/webhooks/{id}/deliveries", {
  operationId: "listTenantWebhookDeliveries",
  summary: "A tenant's endpoint's delivery log, latest queued first (`?status=failed`: those given up)",
  access: "platform",
  request: { params: EndpointParams, query: DeliveriesQuery },
  responses: { 200: jsonResponse("a page of deliveries", listOf(Delivery)), 404: problem(NO_ENDPOINT) },
});

const redeliver = op.post("/tenants/{tenant_id}/webhooks/{id}/redeliver-failed", {
  operationId: "redeliverTenantFailedWebhooks",
  summary: `${REDELIVER_FAILED_SUMMARY}: the tenant's own route, taken by the platform (recorded as the platform's)`,
  access: "platform",
  request: { params: EndpointParams, body: jsonBody(RedeliverFailedBody) },
  responses: {
    200: jsonResponse(REDELIVERY_BATCH_ANSWER, RedeliveryBatch),
    404: problem(NO_ENDPOINT),
    409: problem(ENDPOINT_DISABLED_409),
  },
});

const enable = op.post("/tenants/{tenant_id}/webhooks/{id}/enable", {
  operationId: "enableTenantWebhookEndpoint",
  summary:
    "Enable a tenant's endpoint (disabled for failing, by an admin, or by the platform: the only way to enable one the platform disabled): it sends what it kept queued; recorded in the tenant's audit log as the platform's",
  access: "platform",
  request: { params: EndpointParams, headers: IfMatchHeader },
  responses: {
    200: jsonResponse("the endpoint, enabled (one already enabled is left as it is)", Endpoint, ETAG_HEADER),
    404: problem(NO_ENDPOINT),
    412: problem("If-Match names another version"),
  },
});

const disable = op.post("/tenants/{tenant_id}/webhooks/{id}/disable", {
  operationId: "disableTenantWebhookEndpoint",
  summary:
    "Disable a tenant's endpoint (its receiver is harmed or abused): it sends nothing, and events are not queued for it, until the platform enables it (the tenant's own re-enable is refused, 409 `endpoint_disabled_by_platform`); the tenant's admins see `disabled_reason: platform` and the reason given (`disabled_note`), and its verified owners and admins are mailed it; recorded in the tenant's audit log as the platform's, with the reason",
  access: "platform",
  request: {
    params: EndpointParams,
    headers: IfMatchHeader,
    // Optional: no body (and no Content-Type) disables without a reason.
    body: {
      ...jsonBody(
        z.object({
          reason: DisplayName.optional().openapi({
            description:
              "why, for the tenant's admins (the endpoint's `disabled_note`): what to fix and whom to ask; no secrets, no operator names",
          }),
        }),
      ),
      required: false,
    },
  },
  responses: {
    200: jsonResponse(
      "the endpoint, disabled by the platform (one already disabled otherwise, or with another reason, records the platform's; one it disabled with this reason is left as it is)",
      Endpoint,
      ETAG_HEADER,
    ),
    404: problem(NO_ENDPOINT),
    412: problem("If-Match names another version"),
  },
});

/**
 * The tenant the path names, if it is live: suspended ones included (an operator still mends
 * those), deleted ones (being erased, or erased) answered 404 as the tenants routes answer
 * them. Checked before any object is reached, so an unknown id creates none. Through the
 * kernel's tenant lookup (read now, uncached), not the tenants module's store.
 */
async function liveTenant(c: Context<AppEnv>, id: string): Promise<string> {
  const lookup = c.get("tenantLookup");
  if (lookup && (await lookup.find(c.env, id))) return id;
  throw await unknownPlatformTenant(lookup, id, c);
}

/**
 * `/api/v1/platform/tenants/{tenant_id}/webhooks`: what the runbook "Webhook deliveries given
 * up" (docs/operations.md) needs, and disabling an endpoint whose traffic must stop, behind the
 * root key, so an operator needs no key of the tenant. The same service as the tenant's admin routes (service.ts); an endpoint of another
 * tenant is 404, as under the tenant's own key.
 */
export const platformWebhookRoutes = createRouter()
  .openapi(list, async (c) => {
    const tenantId = await liveTenant(c, c.req.valid("param").tenant_id);
    return c.json(flagPage(c, await endpointPage(c.env, tenantId, c.req.valid("query"))), 200);
  })
  .openapi(deliveries, async (c) => {
    const { tenant_id, id } = c.req.valid("param");
    const tenantId = await liveTenant(c, tenant_id);
    return c.json(await deliveryPage(c.env, tenantId, id, c.req.valid("query")), 200);
  })
  .openapi(redeliver, async (c) => {
    const { tenant_id, id } = c.req.valid("param");
    const tenantId = await liveTenant(c, tenant_id);
    const caller = { ctx: originOf(c), way: "platform" as const };
    const result = await redeliverFailed(c.env, caller, tenantId, id, c.req.valid("json"));
    // The tenant's audit log records it as the platform's; the platform's own record is this line.
    c.get("log").info("webhook deliveries requeued by the platform", {
      event: "webhooks.platform.redeliver_failed",
      tenant_id: tenantId,
      endpoint_id: id,
      requeued: result.requeued,
      remaining: result.remaining,
    });
    return c.json(result, 200);
  })
  .openapi(enable, async (c) => {
    const { tenant_id, id } = c.req.valid("param");
    const tenantId = await liveTenant(c, tenant_id);
    const endpoint = await setEndpointEnabled(c.env, tenantId, id, originOf(c), ifMatch(c), true);
    c.header("ETag", `"${endpoint.version}"`);
    return c.json(flagEndpoint(c, endpoint), 200);
  })
  .openapi(disable, async (c) => {
    const { tenant_id, id } = c.req.valid("param");
    const tenantId = await liveTenant(c, tenant_id);
    const note = c.req.valid("json").reason ?? null;
    const endpoint = await setEndpointEnabled(c.env, tenantId, id, originOf(c), ifMatch(c), false, { note });
    c.header("ETag", `"${endpoint.version}"`);
    return c.json(flagEndpoint(c, endpoint), 200);
  });
