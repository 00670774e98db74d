import { createRoute, z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../../../generated/permissions";
import { can, principalOf, requirePermission, tenantOf } from "../../../kernel/auth/guards";
import { newId } from "../../../kernel/crypto";
import { AppError } from "../../../kernel/errors";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { evictKey } from "../authenticators";
import { IdParam, jsonBody, jsonResponse, KeySchema, listOf, PageQuery } from "../schemas";
import { ctxOf, directory, newApiKey } from "../services";

const tags = ["api keys"];
const security = [{ bearer: [] }];

const CreatedKeySchema = KeySchema.extend({ key: z.string() }).openapi("CreatedApiKey");

const create = createRoute({
  method: "post",
  path: "/admin/api-keys",
  operationId: "createApiKey",
  summary: "Create an API key (its secret is shown once)",
  tags,
  security,
  middleware: [requirePermission(PERMISSIONS.admin.keys.write)] as const,
  request: {
    body: jsonBody(
      z.object({
        name: z.string().trim().min(1).max(200),
        scopes: z.array(z.string().max(128)).min(1).max(100),
        expires_at: z.iso.datetime({ offset: true }).optional(),
      }),
    ),
  },
  responses: {
    201: jsonResponse("the key, with its secret", CreatedKeySchema),
    400: problem("invalid fields or unknown permissions"),
    403: problem("a scope the caller does not hold"),
  },
});

const list = createRoute({
  method: "get",
  path: "/admin/api-keys",
  operationId: "listApiKeys",
  summary: "List live API keys (without secrets)",
  tags,
  security,
  middleware: [requirePermission(PERMISSIONS.admin.keys.read)] as const,
  request: { query: PageQuery },
  responses: { 200: jsonResponse("a page of keys", listOf(KeySchema)) },
});

const revoke = createRoute({
  method: "delete",
  path: "/admin/api-keys/{id}",
  operationId: "revokeApiKey",
  summary: "Revoke an API key",
  tags,
  security,
  middleware: [requirePermission(PERMISSIONS.admin.keys.write)] as const,
  request: { params: IdParam },
  responses: { 204: { description: "revoked" }, 404: problem("no such live key in this tenant") },
});

/** `/api/v1/admin/api-keys`. */
export const keyRoutes = createRouter()
  .openapi(create, async (c) => {
    const principal = principalOf(c, "user", "api_key");
    const tenant = tenantOf(c);
    const body = c.req.valid("json");
    const scopes = [...new Set(body.scopes)].sort();
    const known = new Set(c.var.platform.permissions);
    const unknown = scopes.filter((s) => !known.has(s));
    if (unknown.length > 0) {
      throw new AppError("validation_failed", {
        detail: `unknown permission${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`,
        errors: unknown.map((s) => ({
          path: `body.scopes.${body.scopes.indexOf(s)}`,
          message: `unknown permission ${s}`,
        })),
      });
    }
    // A key can only hand out what its creator holds: no escalation through keys.
    const notHeld = scopes.filter((s) => !can(principal, s));
    if (notHeld.length > 0) throw new AppError("forbidden", { detail: `you do not hold ${notHeld.join(", ")}` });
    let expiresAt = body.expires_at ? new Date(body.expires_at).toISOString() : null;
    if (expiresAt !== null && expiresAt <= new Date().toISOString()) {
      throw new AppError("validation_failed", {
        detail: "expires_at is in the past",
        errors: [{ path: "body.expires_at", message: "must be in the future" }],
      });
    }
    // Nor in time: a key made by an expiring key expires with it at the latest.
    if (principal.kind === "api_key" && principal.expiresAt !== null) {
      if (expiresAt === null) expiresAt = principal.expiresAt;
      else if (expiresAt > principal.expiresAt) {
        throw new AppError("forbidden", {
          detail: `a key cannot outlive the key that creates it (expires_at after ${principal.expiresAt})`,
        });
      }
    }
    const secret = await newApiKey(c.var.config.environment);
    const now = new Date().toISOString();
    // Index first: an index row without a directory key is simply an unknown key.
    await c.env.DB.prepare("insert into api_key_index (key_hash, tenant_id, created_at) values (?, ?, ?)")
      .bind(secret.hash, tenant.id, now)
      .run();
    const key = await directory(c.env, tenant.id).createKey({
      ctx: ctxOf(c),
      key: { id: newId(), name: body.name, prefix: secret.prefix, hash: secret.hash, scopes, expiresAt },
    });
    c.header("Cache-Control", "no-store");
    return c.json({ ...key, key: secret.key }, 201);
  })
  .openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page = await directory(c.env, tenantOf(c).id).listKeys({ limit, cursor: cursor ?? null });
    return c.json({ items: page.items, next_cursor: page.next }, 200);
  })
  .openapi(revoke, async (c) => {
    const { id } = c.req.valid("param");
    const result = await directory(c.env, tenantOf(c).id).revokeKey({ ctx: ctxOf(c), id });
    if (!result.ok) throw new AppError("not_found", { detail: "no such API key" });
    evictKey(id);
    await c.env.DB.prepare("delete from api_key_index where key_hash = ?").bind(result.value.hash).run();
    return c.body(null, 204);
  });
