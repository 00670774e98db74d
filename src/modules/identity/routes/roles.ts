import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { PERMISSIONS } from "../../../generated/permissions";
import { can, principalOf, tenantOf } from "../../../kernel/auth/guards";
import { MAX_PERMISSION_LENGTH } from "../../../kernel/auth/permissions";
import type { AppEnv } from "../../../kernel/env";
import { AppError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { versionMatches } from "../../../kernel/http/if-match";
import {
  ETAG_HEADER,
  IfMatchHeader,
  ifMatch,
  jsonBody,
  jsonResponse,
  LOCATION_HEADER,
} from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { evictTenantKeys, evictUser, forgetTenantPrincipals } from "../authenticators";
import { directory } from "../directory/contract";
import { describeUses, usesShown } from "../directory/role-uses";
import { MAX_ROLES } from "../directory/roles";
import { MAX_ROLE_DESCRIPTION, MAX_ROLE_PERMISSIONS, ROLE_NAME_PATTERN } from "../directory/types";
import { declaredPermissions, identityError, refused, staleVersion } from "../refusals";
import { flagRole, undeclared } from "../undeclared";

const RoleName = z.string().regex(ROLE_NAME_PATTERN, "lower-case letters, digits, '-' and '_'");
const RoleSchema = z
  .object({
    name: z.string(),
    permissions: z.array(z.string()),
    description: z.string(),
    version: z.number().int().openapi({ description: "1 at creation, +1 per change; also the role's `ETag`" }),
    unknown_permissions: z.array(z.string()).optional().openapi({
      description:
        "Those of `permissions` that no module of this deployment declares, patterns covering none it declares included (their module was removed): they grant nothing. A PUT may send them back while the role holds them; present only when there are some",
    }),
  })
  .openapi("Role");
const RoleBody = z.object({
  permissions: z.array(z.string().max(MAX_PERMISSION_LENGTH)).max(MAX_ROLE_PERMISSIONS),
  description: z.string().max(MAX_ROLE_DESCRIPTION).default(""),
});
const NameParam = z.object({ name: RoleName });
const BindingParam = z.object({ id: z.string().min(1).max(64), name: RoleName });

const op = operations(["roles"]);
const read = PERMISSIONS.admin.roles.read;
const write = PERMISSIONS.admin.roles.write;

const list = op.get("/admin/roles", {
  operationId: "listRoles",
  summary: "List the tenant's roles (all of them: at most 100, not paged)",
  access: read,
  responses: { 200: jsonResponse("roles", z.object({ items: z.array(RoleSchema) })) },
});
const create = op.post("/admin/roles", {
  operationId: "createRole",
  summary: "Create a role",
  access: write,
  request: { body: jsonBody(RoleBody.extend({ name: RoleName })) },
  responses: {
    201: jsonResponse("the role", RoleSchema, { ...LOCATION_HEADER, ...ETAG_HEADER }),
    400: problem("an unknown permission, named"),
    403: problem("a permission the caller does not hold"),
    409: problem("the name exists (`role_exists`), or the tenant holds the most roles allowed (`role_limit_reached`)"),
  },
});
const get = op.get("/admin/roles/{name}", {
  operationId: "getRole",
  summary: "One role (ETag: its version)",
  access: read,
  request: { params: NameParam },
  responses: { 200: jsonResponse("the role", RoleSchema, ETAG_HEADER), 404: problem("no such role") },
});
const replace = op.put("/admin/roles/{name}", {
  operationId: "replaceRole",
  summary: "Replace a role's permissions and description; honours If-Match",
  access: write,
  request: { params: NameParam, headers: IfMatchHeader, body: jsonBody(RoleBody) },
  responses: {
    200: jsonResponse("the role", RoleSchema, ETAG_HEADER),
    400: problem("an unknown permission the role does not hold already, named"),
    403: problem("an old or new permission the caller does not hold"),
    404: problem("no such role"),
    409: problem("owner is fixed"),
    412: problem("If-Match names another version"),
  },
});
const remove = op.delete("/admin/roles/{name}", {
  operationId: "deleteRole",
  summary: "Delete a role nobody holds; honours If-Match",
  access: write,
  request: { params: NameParam, headers: IfMatchHeader },
  responses: {
    204: { description: "deleted; ETag is the deletion's version", headers: ETAG_HEADER },
    403: problem("a permission of the role the caller does not hold"),
    404: problem("no such role"),
    409: problem(
      "owner (`owner_role_fixed`), or still used (`role_in_use`: held by users, named by pending invitations or the SSO configuration; `used_by` says which)",
    ),
    412: problem("If-Match names another version"),
  },
});
const grant = op.put("/admin/users/{id}/roles/{name}", {
  operationId: "grantRole",
  summary: "Grant a role to a user (effective at their next request)",
  access: write,
  request: { params: BindingParam },
  responses: {
    204: { description: "granted" },
    403: problem("the role holds a permission the caller does not, or it is owner and the caller is not"),
    404: problem("no such user or role"),
  },
});
const revoke = op.delete("/admin/users/{id}/roles/{name}", {
  operationId: "revokeRole",
  summary: "Revoke a role from a user",
  access: write,
  request: { params: BindingParam },
  responses: {
    204: { description: "revoked" },
    403: problem("the role holds a permission the caller does not, or it is owner and the caller is not"),
    404: problem("no such user or role"),
    409: problem("the last owner"),
  },
});

const noRole = () => new AppError("not_found", { detail: "no such role" });

/** A role as answered: flagged with the permissions no registered module declares. */
const shown = <R extends { permissions: readonly string[] }>(c: Context<AppEnv>, role: R) =>
  flagRole(new Set(c.get("platform").permissions), role);

/** `/api/v1/admin/roles` and `/api/v1/admin/users/{id}/roles/{name}`. */
export const roleRoutes = createRouter()
  .openapi(list, async (c) => {
    const roles = await directory(c.env, tenantOf(c).id).listRoles();
    return c.json({ items: roles.map((r) => shown(c, r)) }, 200);
  })
  .openapi(create, async (c) => {
    const body = c.req.valid("json");
    const permissions = declaredPermissions(c, body.permissions, "permissions", true);
    const role = { name: body.name, permissions, description: body.description };
    const result = await directory(c.env, tenantOf(c).id).createRole({ ctx: originOf(c), role });
    if (!result.ok) {
      if (result.error === "denied") throw refused(c, result.refusal, body.name);
      if (result.error === "limit") {
        throw identityError("role_limit_reached", `a tenant holds at most ${MAX_ROLES} roles; delete one first`);
      }
      throw identityError("role_exists", `the role ${body.name} exists`);
    }
    c.header("Location", `/api/v1/admin/roles/${encodeURIComponent(result.value.name)}`);
    c.header("ETag", `"${result.value.version}"`);
    return c.json(shown(c, result.value), 201);
  })
  .openapi(get, async (c) => {
    const role = await directory(c.env, tenantOf(c).id).getRole(c.req.valid("param").name);
    if (!role) throw noRole();
    c.header("ETag", `"${role.version}"`);
    return c.json(shown(c, role), 200);
  })
  .openapi(replace, async (c) => {
    const { name } = c.req.valid("param");
    const body = c.req.valid("json");
    const tenant = tenantOf(c);
    const roles = directory(c.env, tenant.id);
    let expectedVersion = ifMatch(c);
    let held: readonly string[] = [];
    if (undeclared(new Set(c.get("platform").permissions), body.permissions).length > 0) {
      // Permissions no module declares are kept only where the role holds them now: the write is
      // pinned to the version read, so a role changed meanwhile (one dropping them) is a 412. An
      // If-Match naming another version is a 412 here, not a pin to that version: a change landing
      // between this read and the write could make it current, without what the read held.
      const current = await roles.getRole(name);
      if (!current) throw noRole();
      if (!versionMatches(expectedVersion, current.version)) throw staleVersion("the role", current.version);
      held = current.permissions;
      expectedVersion = current.version;
    }
    const permissions = declaredPermissions(c, body.permissions, "permissions", true, held);
    const role = { name, permissions, description: body.description };
    const result = await roles.replaceRole({ ctx: originOf(c), role, expectedVersion });
    if (!result.ok) {
      if (result.error === "denied") throw refused(c, result.refusal, name);
      if (result.error === "version_conflict") throw staleVersion("the role", result.current_version);
      throw noRole();
    }
    forgetTenantPrincipals(tenant.id);
    c.header("ETag", `"${result.value.version}"`);
    return c.json(shown(c, result.value), 200);
  })
  .openapi(remove, async (c) => {
    const { name } = c.req.valid("param");
    const result = await directory(c.env, tenantOf(c).id).deleteRole({
      ctx: originOf(c),
      name,
      expectedVersion: ifMatch(c),
    });
    if (!result.ok) {
      if (result.error === "denied") throw refused(c, result.refusal, name);
      if (result.error === "not_found") throw noRole();
      if (result.error === "version_conflict") throw staleVersion("the role", result.current_version);
      const seesInvitations = can(principalOf(c, "user", "api_key"), PERMISSIONS.identity.invitation.read);
      throw identityError("role_in_use", describeUses(name, result.uses, seesInvitations), {
        extensions: { used_by: usesShown(result.uses, seesInvitations) },
      });
    }
    c.header("ETag", `"${result.value.version}"`);
    return c.body(null, 204);
  })
  .openapi(grant, (c) => bind(c, c.req.valid("param"), true))
  .openapi(revoke, (c) => bind(c, c.req.valid("param"), false));

/** Grants or revokes a role binding: 204, 404 for an unknown user or role, the policy's refusal otherwise. */
async function bind(c: Context<AppEnv>, { id, name }: { id: string; name: string }, grant: boolean) {
  const tenant = tenantOf(c);
  const result = await directory(c.env, tenant.id).bindRole({ ctx: originOf(c), userId: id, role: name, grant });
  if (!result.ok) {
    if (result.error === "denied") throw refused(c, result.refusal, id);
    throw new AppError("not_found", { detail: result.error === "no_user" ? "no such user" : "no such role" });
  }
  evictUser(tenant.id, id);
  // The keys the user created (and those minted from them) hold no more than the user now does.
  evictTenantKeys(tenant.id);
  return c.body(null, 204);
}
