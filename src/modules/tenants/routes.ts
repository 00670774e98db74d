import { z } from "@hono/zod-openapi";
import {
  DisplayName,
  ETAG_HEADER,
  type HeaderSpec,
  IdPageQuery,
  IdParam,
  jsonBody,
  jsonResponse,
  LOCATION_HEADER,
  listOf,
  page,
} from "../../kernel/openapi/blocks";
import { operations } from "../../kernel/openapi/operation";
import { createRouter, problem } from "../../kernel/openapi/router";
import { PLANS } from "../../kernel/ratelimit/policies";
import { KeySchema, keyPath } from "../identity/schemas";
import { SlugSchema, TenantSchema } from "./domain";
import { unknownTenant } from "./lifecycle";
import { callOf } from "./platform-call";
import { createTenant, issueAdminKey } from "./service";
import { tenantStore, VISIBLE } from "./store";

const op = operations(["platform"]);

const create = op.post("/tenants", {
  operationId: "createTenant",
  summary: "Create a tenant and its first admin API key (shown once)",
  access: "platform",
  request: {
    body: jsonBody(
      z.object({
        slug: SlugSchema,
        name: DisplayName,
        plan: z.enum(PLANS).default("free"),
      }),
    ),
  },
  responses: {
    201: jsonResponse("the tenant and its admin key", TenantSchema.extend({ admin_key: z.string() }), LOCATION_HEADER),
    409: problem("the slug is taken"),
  },
});
const list = op.get("/tenants", {
  operationId: "listTenants",
  summary: "List tenants, oldest first",
  access: "platform",
  request: { query: IdPageQuery },
  responses: { 200: jsonResponse("a page of tenants", listOf(TenantSchema)) },
});
const get = op.get("/tenants/{id}", {
  operationId: "getTenant",
  summary: "One tenant",
  access: "platform",
  request: { params: IdParam },
  responses: { 200: jsonResponse("the tenant", TenantSchema, ETAG_HEADER), 404: problem("no such tenant") },
});
/**
 * The issued key's path, `/api/v1/admin/api-keys/{id}`: a tenant route, so the root key cannot
 * read it there (the platform lists no tenant's keys); the key itself, or another of the
 * tenant's credentials holding the list's permission, can.
 */
const KEY_LOCATION: Record<"Location", HeaderSpec> = {
  Location: {
    description:
      "the key's path, /api/v1/admin/api-keys/{id}, where a GET with a credential of the tenant (the key itself) reads it",
    required: true,
    schema: { type: "string" },
  },
};

const adminKey = op.post("/tenants/{id}/admin-keys", {
  operationId: "issueTenantAdminKey",
  summary: "Issue a new key holding every permission for a tenant (recovery; shown once)",
  access: "platform",
  request: { params: IdParam, body: jsonBody(z.object({ name: DisplayName })) },
  responses: {
    201: jsonResponse(
      "the key, with its secret",
      KeySchema.omit({ last_used_at: true }).extend({ key: z.string() }).openapi("TenantAdminKey"),
      KEY_LOCATION,
    ),
    404: problem("no such tenant"),
  },
});

/** A live tenant (suspended ones included: platform routes still reach those; deleting ones are gone for them). */
async function knownTenant(db: D1Database, id: string) {
  const store = tenantStore(db);
  const tenant = await store.find("id", id);
  if (!tenant) throw await unknownTenant(db, id);
  return tenant;
}

/** `/api/v1/platform/tenants`: the platform operators' API, behind the root key. */
export const platformRoutes = createRouter()
  .openapi(create, async (c) => {
    const tenant = await createTenant(c.env, c.req.valid("json"), callOf(c), c.get("platform").grants);
    c.header("Cache-Control", "no-store");
    c.header("Location", `/api/v1/platform/tenants/${tenant.id}`);
    return c.json(tenant, 201);
  })
  .openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    // Deleting tenants too: the list shows an erasure's progress until it ends.
    const rows = await tenantStore(c.env.DB).list(limit + 1, cursor, VISIBLE);
    return c.json(
      page(rows, limit, (t) => t.id),
      200,
    );
  })
  .openapi(get, async (c) => {
    const store = tenantStore(c.env.DB);
    const { id } = c.req.valid("param");
    const tenant = await store.find("id", id, VISIBLE);
    if (!tenant) throw await unknownTenant(c.env.DB, id);
    c.header("ETag", `"${tenant.version}"`);
    return c.json(tenant, 200);
  })
  .openapi(adminKey, async (c) => {
    const tenant = await knownTenant(c.env.DB, c.req.valid("param").id);
    const { last_used_at: _unused, ...key } = await issueAdminKey(
      c.env,
      { tenantId: tenant.id, name: c.req.valid("json").name },
      callOf(c),
    );
    c.header("Cache-Control", "no-store");
    c.header("Location", keyPath(key.id));
    return c.json(key, 201);
  });
