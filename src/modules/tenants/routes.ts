import { createRoute, z } from "@hono/zod-openapi";
import { requirePlatform } from "../../kernel/auth/guards";
import { AppError } from "../../kernel/errors";
import { createRouter, problem } from "../../kernel/openapi/router";
import { IdParam, jsonBody, jsonResponse, KeySchema, listOf, PageQuery } from "../identity/schemas";
import { RESERVED_SLUGS } from "./manifest";
import { createTenant, issueAdminKey } from "./service";

const TenantSchema = z
  .object({ id: z.string(), slug: z.string(), name: z.string(), plan: z.string(), created_at: z.string() })
  .openapi("Tenant");

const SlugSchema = z
  .string()
  .min(3)
  .max(63)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "must be a DNS label: a-z, 0-9 and '-', not at either end")
  .refine((s) => !RESERVED_SLUGS.has(s), "is reserved")
  .openapi({ example: "acme" });

const tags = ["platform"];
const security = [{ bearer: [] }];

const create = createRoute({
  method: "post",
  path: "/tenants",
  operationId: "createTenant",
  summary: "Create a tenant and its first admin API key (shown once)",
  tags,
  security,
  middleware: [requirePlatform()] as const,
  request: {
    body: jsonBody(
      z.object({
        slug: SlugSchema,
        name: z.string().trim().min(1).max(200),
        plan: z.string().trim().min(1).max(64).default("free"),
      }),
    ),
  },
  responses: {
    201: jsonResponse("the tenant and its admin key", TenantSchema.extend({ admin_key: z.string() })),
    409: problem("the slug is taken"),
  },
});

const list = createRoute({
  method: "get",
  path: "/tenants",
  operationId: "listTenants",
  summary: "List tenants",
  tags,
  security,
  middleware: [requirePlatform()] as const,
  request: { query: PageQuery },
  responses: { 200: jsonResponse("a page of tenants", listOf(TenantSchema)) },
});

const get = createRoute({
  method: "get",
  path: "/tenants/{id}",
  operationId: "getTenant",
  summary: "One tenant",
  tags,
  security,
  middleware: [requirePlatform()] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse("the tenant", TenantSchema), 404: problem("no such tenant") },
});

const adminKey = createRoute({
  method: "post",
  path: "/tenants/{id}/admin-keys",
  operationId: "issueTenantAdminKey",
  summary: "Issue a new key holding every permission for a tenant (recovery; shown once)",
  tags,
  security,
  middleware: [requirePlatform()] as const,
  request: { params: IdParam, body: jsonBody(z.object({ name: z.string().trim().min(1).max(200) })) },
  responses: {
    201: jsonResponse(
      "the key, with its secret",
      KeySchema.omit({ last_used_at: true }).extend({ key: z.string() }).openapi("TenantAdminKey"),
    ),
    404: problem("no such tenant"),
  },
});

const COLUMNS = "id, slug, name, plan, created_at";

/** An active tenant by id, or 404. */
async function activeTenant(db: D1Database, id: string): Promise<z.infer<typeof TenantSchema>> {
  const tenant = await db
    .prepare(`select ${COLUMNS} from tenants where status = 'active' and id = ?`)
    .bind(id)
    .first<z.infer<typeof TenantSchema>>();
  if (!tenant) throw new AppError("not_found", { detail: "no such tenant" });
  return tenant;
}

/** `/api/v1/platform/tenants`: the platform operators' API, behind the root key. */
export const platformRoutes = createRouter()
  .openapi(create, async (c) => {
    const body = c.req.valid("json");
    const tenant = await createTenant(c.env, {
      ...body,
      environment: c.var.config.environment,
      actor: { kind: "platform", id: "platform" },
      requestId: c.var.requestId,
    });
    c.header("Cache-Control", "no-store");
    return c.json(tenant, 201);
  })
  .openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const { results } = await c.env.DB.prepare(
      `select ${COLUMNS} from tenants where status = 'active' and id > ? order by id limit ?`,
    )
      .bind(cursor ?? "", limit + 1)
      .all<z.infer<typeof TenantSchema>>();
    const items = results.slice(0, limit);
    return c.json({ items, next_cursor: results.length > limit ? (items.at(-1)?.id ?? null) : null }, 200);
  })
  .openapi(get, async (c) => c.json(await activeTenant(c.env.DB, c.req.valid("param").id), 200))
  .openapi(adminKey, async (c) => {
    const tenant = await activeTenant(c.env.DB, c.req.valid("param").id);
    const key = await issueAdminKey(c.env, {
      tenantId: tenant.id,
      name: c.req.valid("json").name,
      environment: c.var.config.environment,
      actor: { kind: "platform", id: "platform" },
      requestId: c.var.requestId,
    });
    const { last_used_at: _unused, ...shown } = key;
    c.header("Cache-Control", "no-store");
    return c.json(shown, 201);
  });
