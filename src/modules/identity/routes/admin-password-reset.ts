import { z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../../../generated/permissions";
import { tenantOf } from "../../../kernel/auth/guards";
import { isoIn } from "../../../kernel/clock";
import { AppError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { notifierOf } from "../../../kernel/notify/notifier";
import { IdParam, jsonBody } from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { enforce, refund } from "../../../kernel/ratelimit/limiter";
import { evictUser } from "../authenticators";
import { directory } from "../directory/contract";
import { linkFor } from "../mail-links";
import { passwordResetMail, RESET_TTL_MINUTES } from "../mail-templates";
import { refused } from "../refusals";
import { newSecret } from "../services";

const op = operations(["users"]);

const RESET_TTL_MS = RESET_TTL_MINUTES * 60 * 1000;

const BodySchema = z.object({
  sign_out: z.boolean().optional().openapi({
    description:
      "also end every session of the user, void their two-factor challenges and any email change under way, and void their current password (refused as a wrong one until they complete the reset), at once (a suspected compromise); default false",
  }),
});

const reset = op.post("/users/{id}/password-reset", {
  operationId: "resetUserPassword",
  summary: "Mail a user a password reset link (an administrator's reset; the token is never returned)",
  access: PERMISSIONS.identity.user.update,
  request: {
    params: IdParam,
    // The body is optional: no body (and no Content-Type) mails the reset without signing out.
    body: { ...jsonBody(BodySchema), required: false },
  },
  responses: {
    202: {
      description: "the reset token is mailed to the user's address (as a self-service reset's); nothing in the body",
    },
    403: problem(
      "the user holds a permission the caller does not, or is an owner and the caller is not; or the user is the caller, or created the calling key (own_account)",
    ),
    404: problem("no such user in this tenant"),
    409: problem("the user is suspended: a reset token would be refused until they are reactivated (conflict)"),
    429: problem("too many resets asked for this user (policy mail, per user, apart from the user's own)"),
  },
});

/** `POST /api/v1/users/{id}/password-reset` (docs/identity.md#resetting-a-members-password). */
export const adminPasswordResetRoutes = createRouter().openapi(reset, async (c) => {
  const { id } = c.req.valid("param");
  const signOut = c.req.valid("json").sign_out ?? false;
  const tenant = tenantOf(c);
  // The user's mailbox gets the self-service reset's budget, counted apart from the resets they or
  // anyone typing their address ask: an administrator neither spends nor is blocked by those.
  // Charged first, given back when the directory refuses, so a refusal mails nothing and costs nothing.
  const spent = await enforce(c, "mail", `admin_reset:${id}`);
  const secret = await newSecret("plp");
  const dir = directory(c.env, tenant.id);
  const result = await dir.resetUserPassword({
    ctx: originOf(c),
    id,
    tokenHash: secret.hash,
    expiresAt: isoIn(c.get("clock"), RESET_TTL_MS),
    signOut,
  });
  if (!result.ok) {
    await refund(c, spent);
    if (result.error === "suspended") {
      throw new AppError("conflict", {
        detail: `the user is suspended: a reset link would be refused until they are reactivated (POST /api/v1/users/${id}/reactivate); nothing was mailed`,
      });
    }
    if (result.error === "denied") throw refused(c, result.refusal, id);
    throw new AppError("not_found", { detail: "no such user" });
  }
  // The ended sessions' access tokens stop here at once, elsewhere within 10 s.
  if (result.value.sessionsEnded > 0) evictUser(tenant.id, id);
  // Queued before the answer, as an invitation is: the 202 says the mail is on its way.
  const link = linkFor((await dir.settings()).mail_links.password_reset, secret.token);
  await notifierOf(c).send({
    tenantId: tenant.id,
    to: result.value.email,
    kind: "identity.password-reset",
    ...passwordResetMail({ tenantName: tenant.name, token: secret.token, link, byAdmin: { signedOut: signOut } }),
  });
  return c.body(null, 202);
});
