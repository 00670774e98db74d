import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { PERMISSIONS } from "../../generated/permissions";
import { tenantOf } from "../../kernel/auth/guards";
import { newId } from "../../kernel/crypto";
import type { AppEnv } from "../../kernel/env";
import { moduleError } from "../../kernel/errors";
import { originOf } from "../../kernel/events/origin";
import { type ExpectedVersion, versionMatches } from "../../kernel/http/if-match";
import { staleVersion } from "../../kernel/http/stale-version";
import {
  ETAG_HEADER,
  IdPageQuery,
  IdParam,
  IfMatchHeader,
  ifMatch,
  jsonBody,
  jsonResponse,
  LOCATION_HEADER,
  listOf,
} from "../../kernel/openapi/blocks";
import { operations } from "../../kernel/openapi/operation";
import { createRouter, problem } from "../../kernel/openapi/router";
import { checkUrl } from "../../kernel/outbound";
import { EndpointRpc, endpointActor, registry, WEBHOOK_URL_MAX } from "./contract";
import { EventFilter } from "./domain";
import { webhookErrors } from "./errors";
import { checkFilters, flagEndpoint, flagPage } from "./filters";
import { checkMove, checkReadable, readsOf } from "./readable";
import { Endpoint, EndpointAnswer } from "./schemas";
import { ROTATION_OVERLAP_MS, sealSecret } from "./secrets";
import {
  endpointOf as endpointOfTenant,
  endpointPage,
  foundEndpoint,
  notFound,
  UNREACHED_HEALTH,
  writeRefused,
} from "./service";
import { newSigningSecret } from "./signing";

const op = operations(["webhooks"]);

const EndpointWithSecret = EndpointAnswer.extend({
  secret: z.string().openapi({ description: "The signing secret (`whsec_…`): shown here once, never again" }),
}).openapi("WebhookEndpointWithSecret");
const EndpointDetail = EndpointAnswer.extend({ delivery: EndpointRpc.health.reply }).openapi("WebhookEndpointDetail");

const Url = z.string().trim().min(1).max(WEBHOOK_URL_MAX);
const Filters = z.array(EventFilter).min(1).max(50);
const Description = z.string().trim().max(500);
const UNREADABLE =
  "`forbidden`: a filter matches events whose read permission (the modules' `event_read`) the caller does not hold; `errors` names each such filter and what it lacks";

const list = op.get("/webhooks", {
  operationId: "listWebhookEndpoints",
  summary: "The tenant's webhook endpoints, newest first (never their secrets)",
  access: PERMISSIONS.admin.webhooks.read,
  request: { query: IdPageQuery },
  responses: { 200: jsonResponse("a page of endpoints", listOf(Endpoint)) },
});

const create = op.post("/webhooks", {
  operationId: "createWebhookEndpoint",
  summary: "Register an endpoint; its signing secret is returned once",
  access: PERMISSIONS.admin.webhooks.write,
  request: {
    body: jsonBody(
      z.object({
        url: Url.openapi({ description: "https only (loopback http in development); no private addresses" }),
        events: Filters.openapi({ description: "event types: exact, a prefix ending in `.*`, or `*`" }),
        description: Description.optional(),
      }),
    ),
  },
  responses: {
    201: jsonResponse("the endpoint, with its secret", EndpointWithSecret, LOCATION_HEADER),
    400: problem("invalid fields, or a refused URL (`webhook_url_refused`)"),
    403: problem(UNREADABLE),
    409: problem("the tenant has the most endpoints allowed (`endpoint_limit_reached`)"),
  },
});

const get = op.get("/webhooks/{id}", {
  operationId: "getWebhookEndpoint",
  summary: "One endpoint, with its delivery state (breaker, failure streak, pending messages)",
  access: PERMISSIONS.admin.webhooks.read,
  request: { params: IdParam },
  responses: { 200: jsonResponse("the endpoint", EndpointDetail, ETAG_HEADER), 404: problem("no such endpoint") },
});

const update = op.patch("/webhooks/{id}", {
  operationId: "updateWebhookEndpoint",
  summary: "Change URL, filters, description, or enable / disable; honours If-Match",
  access: PERMISSIONS.admin.webhooks.write,
  request: {
    params: IdParam,
    headers: IfMatchHeader,
    body: jsonBody(
      z
        .object({ url: Url, events: Filters, description: Description, enabled: z.boolean() })
        .partial()
        .refine((p) => Object.keys(p).length > 0, "nothing to change"),
    ),
  },
  responses: {
    200: jsonResponse("the endpoint", Endpoint, ETAG_HEADER),
    400: problem("invalid fields, or a refused URL"),
    403: problem(`${UNREADABLE}; a new URL counts every filter of the endpoint as new`),
    404: problem("no such endpoint"),
    409: problem(
      "`enabled: true` for an endpoint the platform disabled (`endpoint_disabled_by_platform`, naming its reason): only the platform enables it",
    ),
    412: problem(
      "If-Match names another version; or, for a change of `url` or `events`, the endpoint changed after this request read it to check them",
    ),
  },
});

const remove = op.delete("/webhooks/{id}", {
  operationId: "deleteWebhookEndpoint",
  summary: "Delete an endpoint and its queue and log; honours If-Match",
  access: PERMISSIONS.admin.webhooks.write,
  request: { params: IdParam, headers: IfMatchHeader },
  responses: {
    204: { description: "deleted; ETag is the deletion's version", headers: ETAG_HEADER },
    404: problem("no such endpoint"),
    412: problem("If-Match names another version"),
  },
});

const rotate = op.post("/webhooks/{id}/rotate-secret", {
  operationId: "rotateWebhookSecret",
  summary: "A new signing secret (returned once); the old one keeps signing beside it for 24 h",
  access: PERMISSIONS.admin.webhooks.write,
  request: { params: IdParam },
  responses: {
    200: jsonResponse("the endpoint, with its new secret", EndpointWithSecret),
    404: problem("no such endpoint"),
  },
});

/** Refuses a URL no webhook may target, with the reason for the admin who typed it. */
function allowedUrl(c: Context<AppEnv>, url: string): string {
  const environment = c.get("config").environment;
  const check = checkUrl(url, { development: environment === "development" || environment === "test" });
  if (!check.ok) {
    throw moduleError(webhookErrors, "webhook_url_refused", {
      detail: check.reason,
      errors: [{ path: "body.url", message: check.reason }],
    });
  }
  // The URL is kept as written out, and percent-encoding can grow it ("é" is "%C3%A9"): a URL
  // within the body's bound could outgrow what the registry takes, and its refusal was a 500.
  const href = check.url.href;
  if (href.length > WEBHOOK_URL_MAX) {
    const reason = `longer than ${WEBHOOK_URL_MAX} characters once percent-encoded (${href.length})`;
    throw moduleError(webhookErrors, "webhook_url_refused", {
      detail: reason,
      errors: [{ path: "body.url", message: reason }],
    });
  }
  return href;
}

/**
 * The version a PATCH writes over. One that changes the URL or the filters was checked against
 * `held`, the endpoint as read (which filters it kept, which count as new): it writes over that
 * version only, so a change landing in between (another admin widening the filters to `*`) is a
 * 412 rather than sent to the new URL, or overwritten, unchecked. If-Match, when sent, must name
 * that version too (`*` and a list naming it are met by it). Any other PATCH writes over what
 * If-Match names, or blind.
 */
function checkedVersion(c: Context<AppEnv>, held: { version: number } | null): ExpectedVersion | undefined {
  const expected = ifMatch(c);
  if (!held) return expected;
  if (!versionMatches(expected, held.version)) throw staleVersion("the endpoint", held.version);
  return held.version;
}

/** The endpoint of the request's tenant, or 404 (another tenant's id answers the same). */
export const endpointOf = (c: Context<AppEnv>, id: string) => endpointOfTenant(c.env, tenantOf(c).id, id);

/** `/api/v1/admin/webhooks`: endpoints and their secrets (test messages and the delivery log: delivery-routes.ts). */
export const webhookRoutes = createRouter()
  .openapi(list, async (c) => {
    return c.json(flagPage(c, await endpointPage(c.env, tenantOf(c).id, c.req.valid("query"))), 200);
  })
  .openapi(create, async (c) => {
    const tenant = tenantOf(c);
    const body = c.req.valid("json");
    checkFilters(c, body.events);
    checkReadable(c, body.events);
    const url = allowedUrl(c, body.url);
    const id = newId(c.get("clock").now().getTime());
    const secret = newSigningSecret();
    const sealed = await sealSecret(c, id, secret);
    const result = await registry(c.env, tenant.id).create({
      ctx: originOf(c),
      tenant_id: tenant.id,
      endpoint: {
        id,
        url,
        description: body.description ?? "",
        events: body.events,
        sealed_secret: sealed,
        // What the filters were checked for: dispatch holds back a type a later deploy rules otherwise.
        reads: readsOf(c, body.events).needed,
      },
    });
    if (!result.ok) {
      throw moduleError(webhookErrors, "endpoint_limit_reached", {
        detail: `a tenant may have at most ${result.limit} webhook endpoints`,
      });
    }
    c.header("Cache-Control", "no-store");
    c.header("Location", `/api/v1/admin/webhooks/${id}`);
    return c.json({ ...flagEndpoint(c, result.endpoint), secret }, 201);
  })
  .openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const { endpoint, reached } = await foundEndpoint(c.env, tenantOf(c).id, id);
    const health = reached ? await endpointActor(c.env, tenantOf(c).id, id).health({}) : UNREACHED_HEALTH;
    c.header("ETag", `"${endpoint.version}"`);
    return c.json({ ...flagEndpoint(c, endpoint), delivery: health }, 200);
  })
  .openapi(update, async (c) => {
    const { id } = c.req.valid("param");
    const tenant = tenantOf(c);
    const patch = c.req.valid("json");
    const url = patch.url === undefined ? undefined : allowedUrl(c, patch.url);
    const held = patch.events || url !== undefined ? await endpointOf(c, id) : null;
    // Before the checks: a caller whose If-Match names another version gets its 412, not a 403
    // about filters it never saw.
    const expected = checkedVersion(c, held);
    if (held) {
      // The filters held before the write may be sent back as read (filters.ts, readable.ts); an
      // endpoint changed meanwhile keeps at most what it held a moment earlier. A new URL is a new
      // receiver of every event the endpoint follows: each of its filters must be readable anew.
      const moved = url !== undefined && url !== held.url;
      if (patch.events) checkFilters(c, patch.events, held.events);
      checkReadable(c, patch.events ?? held.events, moved ? [] : held.events);
      // What it follows until this write lands, and the deliveries it keeps, go to the new URL too.
      if (moved) checkMove(c, held.events, await endpointActor(c.env, tenant.id, id).keptTypes({}));
    }
    const result = await registry(c.env, tenant.id).update({
      ctx: originOf(c),
      tenant_id: tenant.id,
      id,
      expected_version: expected,
      patch: {
        ...patch,
        ...(url === undefined ? {} : { url }),
        // A change of filters or URL records what it was checked for (reads.ts).
        ...(held ? { reads: readsOf(c, patch.events ?? held.events) } : {}),
      },
    });
    if (!result.ok) throw writeRefused(result);
    c.header("ETag", `"${result.endpoint.version}"`);
    return c.json(flagEndpoint(c, result.endpoint), 200);
  })
  .openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    const tenant = tenantOf(c);
    const result = await registry(c.env, tenant.id).remove({
      ctx: originOf(c),
      tenant_id: tenant.id,
      id,
      expected_version: ifMatch(c),
    });
    if (!result.ok) throw writeRefused(result);
    c.header("ETag", `"${result.version}"`);
    return c.body(null, 204);
  })
  .openapi(rotate, async (c) => {
    const { id } = c.req.valid("param");
    const tenant = tenantOf(c);
    await endpointOf(c, id);
    const secret = newSigningSecret();
    const sealed = await sealSecret(c, id, secret);
    const result = await registry(c.env, tenant.id).rotate({
      ctx: originOf(c),
      tenant_id: tenant.id,
      id,
      sealed_secret: sealed,
      keep_previous_ms: ROTATION_OVERLAP_MS,
    });
    if (!result.ok) throw notFound();
    c.header("Cache-Control", "no-store");
    return c.json({ ...flagEndpoint(c, result.endpoint), secret }, 200);
  });
