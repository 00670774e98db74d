import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../kernel/env";
import {
  DisplayName,
  ETAG_HEADER,
  IdParam,
  IfMatchHeader,
  ifMatch,
  jsonBody,
  jsonResponse,
} from "../../kernel/openapi/blocks";
import { operations } from "../../kernel/openapi/operation";
import { createRouter, problem } from "../../kernel/openapi/router";
import { PLANS } from "../../kernel/ratelimit/policies";
import type { TenantChange } from "../identity/directory/tenant-state";
import { TenantSchema } from "./domain";
import { changeTenant } from "./lifecycle";
import { callOf } from "./platform-call";

const op = operations(["platform"]);

const TenantPatch = z
  .object({ name: DisplayName.optional(), plan: z.enum(PLANS).optional() })
  .refine((p) => p.name !== undefined || p.plan !== undefined, "name at least one of name and plan");

const update = op.patch("/tenants/{id}", {
  operationId: "updateTenant",
  summary: "Change a tenant's name or plan (a plan's rate limit applies within 30 s everywhere)",
  access: "platform",
  request: { params: IdParam, headers: IfMatchHeader, body: jsonBody(TenantPatch) },
  responses: {
    200: jsonResponse("the tenant after the change", TenantSchema, ETAG_HEADER),
    404: problem("no such tenant"),
  },
});
const suspend = op.post("/tenants/{id}/suspend", {
  operationId: "suspendTenant",
  summary: "Suspend a tenant: its every request answers 403 tenant_suspended until it is resumed",
  access: "platform",
  request: {
    params: IdParam,
    headers: IfMatchHeader,
    // The body is optional: no body (and no Content-Type) suspends without a reason.
    body: {
      ...jsonBody(z.object({ reason: DisplayName.optional() })),
      required: false,
    },
  },
  responses: {
    200: jsonResponse(
      "the suspended tenant (one suspended already: as it is, its first time and reason kept)",
      TenantSchema,
      ETAG_HEADER,
    ),
    404: problem("no such tenant"),
    409: problem("already suspended for another reason, which is kept: resume it, then suspend it again"),
  },
});
const resume = op.post("/tenants/{id}/resume", {
  operationId: "resumeTenant",
  summary: "Resume a suspended tenant",
  access: "platform",
  request: { params: IdParam, headers: IfMatchHeader },
  responses: { 200: jsonResponse("the active tenant", TenantSchema, ETAG_HEADER), 404: problem("no such tenant") },
});

/** Applies a change (with the request's `If-Match`) and answers the tenant with its version as `ETag`. */
async function answer(c: Context<AppEnv>, id: string, change: TenantChange) {
  const tenant = await changeTenant(c.env, { id, change, expectedVersion: ifMatch(c) }, callOf(c));
  c.header("ETag", `"${tenant.version}"`);
  return tenant;
}

/**
 * `/api/v1/platform/tenants/{id}` changes: name and plan, suspension and
 * resumption. Each is idempotent in effect (a repeat changes and records
 * nothing), each honours `If-Match`, and each answers the tenant as it now is.
 */
export const lifecycleRoutes = createRouter()
  .openapi(update, async (c) => {
    const { name, plan } = c.req.valid("json");
    const change = { kind: "update" as const, ...(name === undefined ? {} : { name }), ...(plan ? { plan } : {}) };
    return c.json(await answer(c, c.req.valid("param").id, change), 200);
  })
  .openapi(suspend, async (c) => {
    const reason = c.req.valid("json").reason ?? null;
    return c.json(await answer(c, c.req.valid("param").id, { kind: "suspend", reason }), 200);
  })
  .openapi(resume, async (c) => c.json(await answer(c, c.req.valid("param").id, { kind: "resume" }), 200));
