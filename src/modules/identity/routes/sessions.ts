import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { PERMISSIONS } from "../../../generated/permissions";
import { tokenRefused } from "../../../kernel/auth/challenge";
import { principalOf, tenantOf } from "../../../kernel/auth/guards";
import { isoNow } from "../../../kernel/clock";
import type { AppEnv } from "../../../kernel/env";
import { AppError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { IdPageQuery, IdParam, jsonResponse, listOf } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { evictUser } from "../authenticators";
import { directory } from "../directory/contract";
import { SessionViewSchema } from "../directory/types";
import { refused } from "../refusals";

const op = operations(["sessions"]);

const SessionSchema = SessionViewSchema.extend({
  /** Whether the caller's access token belongs to this session. */
  current: z.boolean(),
}).openapi("Session");

const RevokedSchema = z.object({ revoked: z.number().int().min(0) }).openapi("RevokedSessions");

const SessionParams = z.object({ id: z.string().min(1).max(64), sid: z.string().min(1).max(64) });

const userOnly = problem("the caller is an API key: sessions belong to users");

const mine = op.get("/me/sessions", {
  operationId: "listMySessions",
  summary: "Your sessions (refresh-token families), newest first",
  access: "user",
  request: { query: IdPageQuery },
  responses: { 200: jsonResponse("a page of your live sessions", listOf(SessionSchema)), 403: userOnly },
});

const revokeMine = op.delete("/me/sessions/{id}", {
  operationId: "revokeMySession",
  summary: "Sign out one of your sessions",
  access: "user",
  request: { params: IdParam },
  responses: {
    204: { description: "revoked: its refresh token stops at once, its access tokens within 10 s" },
    403: userOnly,
    404: problem("no live session of yours has this id"),
  },
});

const revokeOthers = op.post("/me/sessions/revoke-others", {
  operationId: "revokeMyOtherSessions",
  summary: "Sign out every session but the one of this access token",
  access: "user",
  responses: { 200: jsonResponse("how many sessions were revoked", RevokedSchema), 403: userOnly },
});

const theirs = op.get("/admin/users/{id}/sessions", {
  operationId: "listUserSessions",
  summary: "A user's sessions, newest first (identity.user.update)",
  access: PERMISSIONS.identity.user.update,
  request: { params: IdParam, query: IdPageQuery },
  responses: {
    200: jsonResponse("a page of the user's live sessions", listOf(SessionSchema)),
    404: problem("no such user in this tenant"),
  },
});

const adminRefusal = problem(
  "the user holds a permission the caller does not, or is an owner and the caller is not an owner",
);

const revokeTheirs = op.delete("/admin/users/{id}/sessions/{sid}", {
  operationId: "revokeUserSession",
  summary: "Sign out one session of a user (identity.user.update)",
  access: PERMISSIONS.identity.user.update,
  request: { params: SessionParams },
  responses: {
    204: { description: "revoked: its refresh token stops at once, its access tokens within 10 s" },
    403: adminRefusal,
    404: problem("no such user, or no live session of theirs with this id"),
  },
});

const revokeAll = op.post("/admin/users/{id}/sessions/revoke-all", {
  operationId: "revokeUserSessions",
  summary: "Sign out every session of a user (identity.user.update)",
  access: PERMISSIONS.identity.user.update,
  request: { params: IdParam },
  responses: {
    200: jsonResponse("how many sessions were revoked", RevokedSchema),
    403: adminRefusal,
    404: problem("no such user in this tenant"),
  },
});

const noSession = () => new AppError("not_found", { detail: "no such session" });
const noUser = () => new AppError("not_found", { detail: "no such user" });

/** The caller's session (the `sid` of a user's access token), if any. */
function currentSession(c: Context<AppEnv>): string | null {
  const principal = c.get("principal");
  return principal?.kind === "user" ? (principal.sessionId ?? null) : null;
}

/** A page of `userId`'s sessions as the contract shows them, `current` marking the caller's. */
async function sessionsPage(c: Context<AppEnv>, userId: string, page: { limit: number; cursor?: string }) {
  const result = await directory(c.env, tenantOf(c).id).listSessions({
    userId,
    now: isoNow(c.get("clock")),
    page: { limit: page.limit, cursor: page.cursor ?? null },
  });
  if (!result.ok) return null;
  const current = currentSession(c);
  c.header("Cache-Control", "no-store");
  return {
    items: result.value.items.map((s) => ({ ...s, current: s.id === current })),
    next_cursor: result.value.next,
  };
}

/**
 * `/api/v1/me/sessions` for a signed-in user and `/api/v1/admin/users/{id}/sessions`
 * for an administrator: list sessions and revoke them. Revocation forgets the
 * user in this isolate at once; other isolates refuse the session's access
 * tokens within the user cache's 10 s (authenticators.ts), as after a logout.
 */
export const sessionRoutes = createRouter()
  .openapi(mine, async (c) => {
    const user = principalOf(c, "user");
    const page = await sessionsPage(c, user.id, c.req.valid("query"));
    if (!page) throw tokenRefused("the user no longer exists");
    return c.json(page, 200);
  })
  .openapi(revokeMine, async (c) => {
    const user = principalOf(c, "user");
    const tenant = tenantOf(c);
    const { id } = c.req.valid("param");
    const result = await directory(c.env, tenant.id).revokeSession({
      ctx: originOf(c),
      userId: user.id,
      sessionId: id,
    });
    if (!result.ok) throw result.error === "denied" ? refused(c, result.refusal, id) : noSession();
    evictUser(tenant.id, user.id);
    return c.body(null, 204);
  })
  .openapi(revokeOthers, async (c) => {
    const user = principalOf(c, "user");
    const tenant = tenantOf(c);
    const result = await directory(c.env, tenant.id).revokeSessions({
      ctx: originOf(c),
      userId: user.id,
      keep: user.sessionId ?? null,
    });
    if (!result.ok) throw result.error === "denied" ? refused(c, result.refusal, user.id) : noUser();
    evictUser(tenant.id, user.id);
    return c.json(result.value, 200);
  })
  .openapi(theirs, async (c) => {
    const { id } = c.req.valid("param");
    const page = await sessionsPage(c, id, c.req.valid("query"));
    if (!page) throw noUser();
    return c.json(page, 200);
  })
  .openapi(revokeTheirs, async (c) => {
    const tenant = tenantOf(c);
    const { id, sid } = c.req.valid("param");
    const result = await directory(c.env, tenant.id).revokeSession({ ctx: originOf(c), userId: id, sessionId: sid });
    if (!result.ok) throw result.error === "denied" ? refused(c, result.refusal, id) : noSession();
    evictUser(tenant.id, id);
    return c.body(null, 204);
  })
  .openapi(revokeAll, async (c) => {
    const tenant = tenantOf(c);
    const { id } = c.req.valid("param");
    const result = await directory(c.env, tenant.id).revokeSessions({ ctx: originOf(c), userId: id, keep: null });
    if (!result.ok) throw result.error === "denied" ? refused(c, result.refusal, id) : noUser();
    evictUser(tenant.id, id);
    return c.json(result.value, 200);
  });
