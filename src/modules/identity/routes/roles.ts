import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { PERMISSIONS } from "../../../generated/permissions";
import { can, principalOf, requirePermission, tenantOf } from "../../../kernel/auth/guards";
import { isPermissionPattern } from "../../../kernel/auth/permissions";
import type { Principal } from "../../../kernel/auth/types";
import type { AppEnv } from "../../../kernel/env";
import { AppError } from "../../../kernel/errors";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { evictUser, userCache } from "../authenticators";
import { OWNER } from "../directory/roles";
import { jsonBody, jsonResponse } from "../schemas";
import { ctxOf, directory } from "../services";

const tags = ["roles"];
const security = [{ bearer: [] }];
const RoleName = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, "lower-case letters, digits, '-' and '_'");
const RoleSchema = z
  .object({ name: z.string(), permissions: z.array(z.string()), description: z.string() })
  .openapi("Role");
const RoleBody = z.object({
  permissions: z.array(z.string().max(128)).max(500),
  description: z.string().max(500).default(""),
});
const NameParam = z.object({ name: RoleName });
const BindingParam = z.object({ id: z.string().min(1).max(64), name: RoleName });

/** Whether the principal holds a pattern: exact permissions as usual; `*`-patterns only when held as such. */
function holds(principal: Principal, pattern: string): boolean {
  if (!pattern.includes("*")) return can(principal, pattern);
  const grants: readonly string[] = principal.grants;
  return grants.includes("*") || grants.includes(pattern);
}

/** Checks a role's permissions: well-formed, declared, and all held by the caller (no escalation through roles). */
function checkPermissions(c: Context<AppEnv>, permissions: string[]): string[] {
  const declared = new Set(c.var.platform.permissions);
  const unknown = permissions.filter((p) => !isPermissionPattern(p) || (!p.includes("*") && !declared.has(p)));
  if (unknown.length > 0) {
    throw new AppError("validation_failed", {
      detail: `unknown permission${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`,
      errors: unknown.map((p) => ({
        path: `body.permissions.${permissions.indexOf(p)}`,
        message: `unknown permission ${p}`,
      })),
    });
  }
  const principal = principalOf(c, "user", "api_key");
  const notHeld = permissions.filter((p) => !holds(principal, p));
  if (notHeld.length > 0) throw new AppError("forbidden", { detail: `you do not hold ${notHeld.join(", ")}` });
  return [...new Set(permissions)].sort();
}

/** Managing the owner role takes an owner (or the tenant's all-permission key). */
function mayManageOwner(principal: Principal): boolean {
  if (principal.kind === "user") return principal.roles.includes(OWNER);
  return principal.kind === "api_key" && principal.scopes.includes("*");
}

const route = <M extends "get" | "post" | "put" | "delete">(
  method: M,
  path: string,
  operationId: string,
  summary: string,
  write: boolean,
) => ({
  method,
  path,
  operationId,
  summary,
  tags,
  security,
  middleware: [requirePermission(write ? PERMISSIONS.admin.roles.write : PERMISSIONS.admin.roles.read)],
});

const list = createRoute({
  ...route("get", "/admin/roles", "listRoles", "List the tenant's roles", false),
  responses: { 200: jsonResponse("roles", z.object({ items: z.array(RoleSchema) })) },
});
const create = createRoute({
  ...route("post", "/admin/roles", "createRole", "Create a role", true),
  request: { body: jsonBody(RoleBody.extend({ name: RoleName })) },
  responses: {
    201: jsonResponse("the role", RoleSchema),
    400: problem("an unknown permission, named"),
    409: problem("the name exists"),
  },
});
const get = createRoute({
  ...route("get", "/admin/roles/{name}", "getRole", "One role", false),
  request: { params: NameParam },
  responses: { 200: jsonResponse("the role", RoleSchema), 404: problem("no such role") },
});
const replace = createRoute({
  ...route("put", "/admin/roles/{name}", "replaceRole", "Replace a role's permissions and description", true),
  request: { params: NameParam, body: jsonBody(RoleBody) },
  responses: {
    200: jsonResponse("the role", RoleSchema),
    404: problem("no such role"),
    409: problem("owner is fixed"),
  },
});
const remove = createRoute({
  ...route("delete", "/admin/roles/{name}", "deleteRole", "Delete a role nobody holds", true),
  request: { params: NameParam },
  responses: { 204: { description: "deleted" }, 404: problem("no such role"), 409: problem("owner, or still held") },
});
const grant = createRoute({
  ...route(
    "put",
    "/admin/users/{id}/roles/{name}",
    "grantRole",
    "Grant a role to a user (effective at their next request)",
    true,
  ),
  request: { params: BindingParam },
  responses: { 204: { description: "granted" }, 404: problem("no such user or role") },
});
const revoke = createRoute({
  ...route("delete", "/admin/users/{id}/roles/{name}", "revokeRole", "Revoke a role from a user", true),
  request: { params: BindingParam },
  responses: { 204: { description: "revoked" }, 404: problem("no such user or role"), 409: problem("the last owner") },
});

const noRole = () => new AppError("not_found", { detail: "no such role" });

/** After any role change, this isolate forgets the tenant's cached principals: effective at once here, within 10 s elsewhere. */
function forgetTenantUsers(tenantId: string): void {
  userCache.deleteWhere((_, key) => key.startsWith(`${tenantId}/`));
}

/** `/api/v1/admin/roles` and `/api/v1/admin/users/{id}/roles/{name}`. */
export const roleRoutes = createRouter()
  .openapi(list, async (c) => c.json({ items: await directory(c.env, tenantOf(c).id).listRoles() }, 200))
  .openapi(create, async (c) => {
    const body = c.req.valid("json");
    const role = { name: body.name, permissions: checkPermissions(c, body.permissions), description: body.description };
    const result = await directory(c.env, tenantOf(c).id).createRole({ ctx: ctxOf(c), role });
    if (!result.ok) throw new AppError("conflict", { detail: `the role ${body.name} exists` });
    return c.json(result.value, 201);
  })
  .openapi(get, async (c) => {
    const role = await directory(c.env, tenantOf(c).id).getRole(c.req.valid("param").name);
    if (!role) throw noRole();
    return c.json(role, 200);
  })
  .openapi(replace, async (c) => {
    const { name } = c.req.valid("param");
    const body = c.req.valid("json");
    const role = { name, permissions: checkPermissions(c, body.permissions), description: body.description };
    const tenant = tenantOf(c);
    const result = await directory(c.env, tenant.id).replaceRole({ ctx: ctxOf(c), role });
    if (!result.ok) {
      if (result.error === "owner_fixed")
        throw new AppError("conflict", { detail: "the owner role always holds every permission" });
      throw noRole();
    }
    forgetTenantUsers(tenant.id);
    return c.json(result.value, 200);
  })
  .openapi(remove, async (c) => {
    const result = await directory(c.env, tenantOf(c).id).deleteRole({
      ctx: ctxOf(c),
      name: c.req.valid("param").name,
    });
    if (!result.ok) {
      if (result.error === "not_found") throw noRole();
      throw new AppError("conflict", {
        detail: result.error === "owner_fixed" ? "the owner role cannot be deleted" : "users still hold this role",
      });
    }
    return c.body(null, 204);
  })
  .openapi(grant, async (c) => {
    const { id, name } = c.req.valid("param");
    const principal = principalOf(c, "user", "api_key");
    if (name === OWNER && !mayManageOwner(principal))
      throw new AppError("forbidden", { detail: "only owners manage the owner role" });
    const tenant = tenantOf(c);
    const dir = directory(c.env, tenant.id);
    const role = await dir.getRole(name);
    if (!role) throw noRole();
    checkPermissions(c, role.permissions);
    const result = await dir.grantRole({ ctx: ctxOf(c), userId: id, role: name });
    if (!result.ok)
      throw new AppError("not_found", { detail: result.error === "no_user" ? "no such user" : "no such role" });
    evictUser(tenant.id, id);
    return c.body(null, 204);
  })
  .openapi(revoke, async (c) => {
    const { id, name } = c.req.valid("param");
    const principal = principalOf(c, "user", "api_key");
    if (name === OWNER && !mayManageOwner(principal))
      throw new AppError("forbidden", { detail: "only owners manage the owner role" });
    const tenant = tenantOf(c);
    const result = await directory(c.env, tenant.id).revokeRole({ ctx: ctxOf(c), userId: id, role: name });
    if (!result.ok) {
      if (result.error === "last_owner")
        throw new AppError("conflict", { detail: "the tenant's last owner cannot lose the role" });
      throw new AppError("not_found", { detail: result.error === "no_user" ? "no such user" : "no such role" });
    }
    evictUser(tenant.id, id);
    return c.body(null, 204);
  });
