import { z } from "@hono/zod-openapi";
import { PERMISSIONS, type Permission } from "../../../generated/permissions";
import { tokenRefused } from "../../../kernel/auth/challenge";
import { deny } from "../../../kernel/auth/deny";
import { principalOf, tenantOf } from "../../../kernel/auth/guards";
import { expand } from "../../../kernel/auth/permissions";
import { AppError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { DisplayName, IdPageQuery, IdParam, jsonBody, jsonResponse, listOf } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { directory } from "../directory/contract";
import { callerOf, maySelfOr } from "../policy";
import { refused } from "../refusals";
import { UserSchema } from "../schemas";
import { removeUser } from "../user-removal";

const op = operations(["users"]);

const MeSchema = z
  .union([
    z.object({ kind: z.literal("user"), user: UserSchema, permissions: z.array(z.string()) }),
    z.object({
      kind: z.literal("api_key"),
      key: z.object({ id: z.string(), name: z.string(), prefix: z.string(), scopes: z.array(z.string()) }),
      permissions: z.array(z.string()),
    }),
  ])
  .openapi("Me");

const me = op.get("/me", {
  operationId: "getMe",
  summary: "The caller: user or API key, with effective permissions",
  access: "principal",
  responses: { 200: jsonResponse("the caller", MeSchema), 401: problem("no or bad credential") },
});

const list = op.get("/users", {
  operationId: "listUsers",
  summary: "List the tenant's users, oldest first",
  access: PERMISSIONS.identity.user.read,
  request: { query: IdPageQuery },
  responses: { 200: jsonResponse("a page of users", listOf(UserSchema)), 403: problem("missing permission") },
});

const get = op.get("/users/{id}", {
  operationId: "getUser",
  summary: "One user (yourself, or with identity.user.read)",
  access: "principal",
  request: { params: IdParam },
  responses: { 200: jsonResponse("the user", UserSchema), 404: problem("no such user in this tenant") },
});

const update = op.patch("/users/{id}", {
  operationId: "updateUser",
  summary: "Update a user's name (yourself, or with identity.user.update)",
  access: "principal",
  request: {
    params: IdParam,
    body: jsonBody(z.object({ name: DisplayName.optional() }).strict()),
  },
  responses: {
    200: jsonResponse("the updated user", UserSchema),
    403: problem(
      "missing permission; or the user holds a permission the caller does not, or is an owner and the caller is not",
    ),
    404: problem("no such user in this tenant"),
  },
});

const remove = op.delete("/users/{id}", {
  operationId: "deleteUser",
  summary: "Delete a user; revoke their sessions and the API keys they created (with the keys those made)",
  access: PERMISSIONS.identity.user.delete,
  request: { params: IdParam },
  responses: {
    204: {
      description:
        "deleted, with the invitations and mail dead letters that hold their email (docs/identity.md, what deleting an account removes)",
    },
    403: problem(
      "the user holds a permission the caller does not, or owner and the caller is not an owner; or the user is the caller (DELETE /api/v1/me)",
    ),
    404: problem("no such user in this tenant"),
    409: problem(
      "the tenant's last owner (last_owner), or the calling key was created by this user or by a key they created and would be revoked with their keys (revokes_own_key)",
    ),
  },
});

const notFound = () => new AppError("not_found", { detail: "no such user" });

/** Acting on another user takes `permission`; acting on yourself does not. */
function mayAct(c: Parameters<typeof principalOf>[0], id: string, permission: Permission): void {
  if (!maySelfOr(callerOf(principalOf(c, "user", "api_key")), id, permission))
    throw deny(c, { permission, target: id, detail: `missing permission ${permission}` });
}

/** `/api/v1/me` and `/api/v1/users`. */
export const userRoutes = createRouter()
  .openapi(me, async (c) => {
    const principal = principalOf(c, "user", "api_key");
    const permissions = expand(principal.grants, c.get("platform").permissions);
    if (principal.kind === "api_key") {
      const { id, name, prefix, scopes } = principal;
      return c.json({ kind: "api_key" as const, key: { id, name, prefix, scopes }, permissions }, 200);
    }
    const user = await directory(c.env, principal.tenantId).getUser(principal.id);
    if (!user) throw tokenRefused("the user no longer exists");
    return c.json({ kind: "user" as const, user, permissions }, 200);
  })
  .openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page = await directory(c.env, tenantOf(c).id).listUsers({ limit, cursor: cursor ?? null });
    return c.json({ items: page.items, next_cursor: page.next }, 200);
  })
  .openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    mayAct(c, id, PERMISSIONS.identity.user.read);
    const user = await directory(c.env, tenantOf(c).id).getUser(id);
    if (!user) throw notFound();
    return c.json(user, 200);
  })
  .openapi(update, async (c) => {
    const { id } = c.req.valid("param");
    mayAct(c, id, PERMISSIONS.identity.user.update);
    const result = await directory(c.env, tenantOf(c).id).updateUser({
      ctx: originOf(c),
      id,
      patch: c.req.valid("json"),
    });
    if (!result.ok) throw result.error === "denied" ? refused(c, result.refusal, id) : notFound();
    return c.json(result.value, 200);
  })
  .openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    await removeUser(c, id);
    return c.body(null, 204);
  });
