import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { PERMISSIONS } from "../../../generated/permissions";
import { tenantOf } from "../../../kernel/auth/guards";
import type { RpcReply } from "../../../kernel/durable/rpc";
import type { AppEnv } from "../../../kernel/env";
import { AppError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { DisplayName, IdParam, jsonBody, jsonResponse } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { evictTenantKeys, evictUser } from "../authenticators";
import { directory } from "../directory/contract";
import type { SuspensionRpc } from "../directory/suspension-contract";
import { writeRefused } from "../refusals";
import { UserSchema } from "../schemas";

const op = operations(["users"]);

const suspend = op.post("/users/{id}/suspend", {
  operationId: "suspendUser",
  summary: "Suspend a user: they sign in nowhere, their sessions end and their keys hold nothing until reactivated",
  access: PERMISSIONS.identity.user.suspend,
  request: {
    params: IdParam,
    // The body is optional: no body (and no Content-Type) suspends without a reason.
    body: { ...jsonBody(z.object({ reason: DisplayName.optional() })), required: false },
  },
  responses: {
    200: jsonResponse(
      "the suspended user (one suspended already: as it is, its first time and reason kept)",
      UserSchema,
    ),
    403: problem(
      "missing permission; the user holds a permission the caller does not, or owner and the caller is not an owner; or the user is the caller",
    ),
    404: problem("no such user in this tenant"),
    409: problem(
      "the tenant's last owner who is not suspended (last_owner); the calling key was created by this user or by a key they created (revokes_own_key); or the user is suspended already for another reason, which is kept (conflict)",
    ),
  },
});

const reactivate = op.post("/users/{id}/reactivate", {
  operationId: "reactivateUser",
  summary: "Reactivate a suspended user: they may sign in again, and their keys hold what they hold",
  access: PERMISSIONS.identity.user.suspend,
  request: { params: IdParam },
  responses: {
    200: jsonResponse("the active user (one active already: as it is)", UserSchema),
    403: problem("missing permission; the user holds a permission the caller does not, or owner and the caller is not"),
    404: problem("no such user in this tenant"),
  },
});

type Change = RpcReply<typeof SuspensionRpc, "suspendUser">;

/**
 * The user after a suspension or reactivation, or its refusal. When it changed, this isolate
 * forgets the user and the tenant's keys at once (their keys' grants follow the user), other
 * isolates within 10 s, as after a role change.
 */
function settled(c: Context<AppEnv>, id: string, result: Change) {
  if (!result.ok) {
    throw writeRefused(c, id, result, {
      revokesCaller:
        "the calling key was created (directly or through keys it created) by this user, and would hold nothing once they are suspended: suspend them with a credential that did not come from them",
      notFound: "no such user",
    });
  }
  if (result.value.changed) {
    const tenantId = tenantOf(c).id;
    evictUser(tenantId, id);
    evictTenantKeys(tenantId);
  }
  return result.value.user;
}

/** `POST /api/v1/users/{id}/suspend|reactivate` (docs/identity.md#suspending-a-member). */
export const suspensionRoutes = createRouter()
  .openapi(suspend, async (c) => {
    const { id } = c.req.valid("param");
    const reason = c.req.valid("json").reason ?? null;
    const result = await directory(c.env, tenantOf(c).id).suspendUser({ ctx: originOf(c), id, reason });
    const user = settled(c, id, result);
    // A repeat keeps the first suspension (a retry is harmless); answering 200 to another reason
    // would drop it without a word, as a tenant's suspension once did.
    if (result.ok && !result.value.changed && reason !== null && reason !== user.suspended_reason) {
      const held = user.suspended_reason === null ? "with no reason" : `for ${JSON.stringify(user.suspended_reason)}`;
      throw new AppError("conflict", {
        detail: `the user is suspended already, since ${user.suspended_at}, ${held}: the reason ${JSON.stringify(reason)} is not recorded; to change it, reactivate them and suspend them again`,
      });
    }
    return c.json(user, 200);
  })
  .openapi(reactivate, async (c) => {
    const { id } = c.req.valid("param");
    const result = await directory(c.env, tenantOf(c).id).reactivateUser({ ctx: originOf(c), id });
    return c.json(settled(c, id, result), 200);
  });
