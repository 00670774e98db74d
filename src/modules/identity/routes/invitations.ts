import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { PERMISSIONS } from "../../../generated/permissions";
import { can, principalOf, tenantOf } from "../../../kernel/auth/guards";
import { isoNow } from "../../../kernel/clock";
import { newId, sha256Hex } from "../../../kernel/crypto";
import type { AppEnv } from "../../../kernel/env";
import { AppError } from "../../../kernel/errors";
import { originOf } from "../../../kernel/events/origin";
import { notifierOf } from "../../../kernel/notify/notifier";
import {
  DisplayName,
  IdPageQuery,
  IdParam,
  jsonBody,
  jsonResponse,
  LOCATION_HEADER,
  listOf,
} from "../../../kernel/openapi/blocks";
import { operations } from "../../../kernel/openapi/operation";
import { createRouter, problem } from "../../../kernel/openapi/router";
import { type Charge, enforce, refund } from "../../../kernel/ratelimit/limiter";
import { clientIp } from "../../../kernel/ratelimit/middleware";
import { evictUser } from "../authenticators";
import { directory } from "../directory/contract";
import { InvitationStatusSchema, InvitationViewSchema } from "../directory/invitations";
import { clampUserAgent } from "../directory/sessions";
import { MAX_INVITATION_ROLES, ROLE_NAME_PATTERN } from "../directory/types";
import { invitationShown } from "../invitation-privacy";
import { linkFor } from "../mail-links";
import { INVITATION_TTL_DAYS, invitationMail } from "../mail-templates";
import { accountSuspended, refused } from "../refusals";
import { EmailSchema, NewPasswordSchema, PresentedPasswordSchema, TokenPairSchema, TokenSchema } from "../schemas";
import { hasher, newSecret } from "../services";
import { tokenPair } from "../token-pair";
import { secondFactor, TwoFactorChallengeSchema } from "./two-factor-login";

const op = operations(["invitations"]);

const INVITATION_TTL_MS = INVITATION_TTL_DAYS * 86_400_000;
const RoleName = z.string().regex(ROLE_NAME_PATTERN);

const create = op.post("/admin/invitations", {
  operationId: "createInvitation",
  summary: "Invite someone into the tenant with roles (a single-use token is mailed)",
  access: PERMISSIONS.identity.invitation.write,
  request: {
    body: jsonBody(z.object({ email: EmailSchema, roles: z.array(RoleName).min(1).max(MAX_INVITATION_ROLES) })),
  },
  responses: {
    201: jsonResponse("the invitation (its token went by mail)", InvitationViewSchema, LOCATION_HEADER),
    400: problem("invalid fields, or a role that does not exist"),
    403: problem("a role whose permissions the caller does not hold, or owner by a non-owner"),
    429: problem(
      "too many invitations mailed to this address (the `mail` policy) or by this tenant (the `invitations` policy)",
    ),
  },
});

const list = op.get("/admin/invitations", {
  operationId: "listInvitations",
  summary: "Invitations of one status (pending unless ?status= says otherwise), newest first",
  access: PERMISSIONS.identity.invitation.read,
  request: { query: IdPageQuery.extend({ status: InvitationStatusSchema.default("pending") }) },
  responses: {
    200: jsonResponse(
      "a page of invitations of that status; an ended one's email is masked (j***@example.com) unless the caller may also create and revoke invitations",
      listOf(InvitationViewSchema),
    ),
  },
});

const get = op.get("/admin/invitations/{id}", {
  operationId: "getInvitation",
  summary: "One invitation and its status (where its creation's Location points)",
  access: PERMISSIONS.identity.invitation.read,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(
      "the invitation (never its token): pending, or accepted, revoked or expired, and since when; an ended one's email is masked (j***@example.com) unless the caller may also create and revoke invitations",
      InvitationViewSchema,
    ),
    404: problem("no such invitation, or one that ended more than 30 days ago"),
  },
});

const revoke = op.delete("/admin/invitations/{id}", {
  operationId: "revokeInvitation",
  summary: "Revoke a pending invitation",
  access: PERMISSIONS.identity.invitation.write,
  request: { params: IdParam },
  responses: {
    204: { description: "revoked: its token no longer works" },
    404: problem("no such invitation"),
    409: problem("the invitation is no longer pending: it was accepted, revoked or has expired"),
  },
});

const accept = op.post("/auth/accept-invitation", {
  operationId: "acceptInvitation",
  summary: "Accept an invitation: a new account, or an existing one gaining the roles, and a session",
  access: "tenant",
  request: {
    headers: z.object({ "x-tenant": z.string().optional() }),
    body: jsonBody(
      z.object({
        token: TokenSchema,
        // New accounts set it (the password rules apply); existing accounts give theirs.
        password: z.union([NewPasswordSchema, PresentedPasswordSchema]),
        name: DisplayName,
      }),
    ),
  },
  responses: {
    200: jsonResponse(
      "an access and a refresh token for the invited account, or, for an existing account with two-factor on, the login's challenge (the roles are granted either way)",
      z.union([TokenPairSchema, TwoFactorChallengeSchema]),
    ),
    400: problem("the token is unknown, used, revoked or expired (invalid_token), or the password too weak"),
    401: problem("the email has an account here and this is not its password"),
    403: problem("the email's account here is suspended (account_suspended): the invitation stays pending"),
  },
});

/**
 * Spends what an invitation's mail costs: the tenant's `invitations` budget (a tenant cannot
 * mail strangers in bulk from the platform's sender, whose reputation all tenants share) and
 * the address's `mail` budget, as a reset does (one admin cannot flood one mailbox). The
 * tenant's is charged first and given back when the address's refuses, so retrying one
 * over-mailed address does not drain the tenant's budget for everyone else.
 *
 * The address's invitations are counted apart from the mail it asks for itself (verification,
 * reset): one key each, under the same policy. Shared, an admin re-inviting a member would
 * spend the member's resets for the hour, and a stranger asking resets for an address would
 * block its invitation. The address still gets at most twice the policy's mail, from two senders.
 */
async function spendInvitationMail(c: Context<AppEnv>, tenantId: string, email: string): Promise<Charge[]> {
  const perTenant = await enforce(c, "invitations", tenantId);
  try {
    return [perTenant, await enforce(c, "mail", `invitation:${email}`)];
  } catch (error) {
    await refund(c, perTenant);
    throw error;
  }
}

/** Whether the caller may create and revoke invitations, and so sees ended ones' addresses whole. */
const managesInvitations = (c: Context<AppEnv>): boolean =>
  can(principalOf(c, "user", "api_key"), PERMISSIONS.identity.invitation.write);

/** An existing account's password is wrong, or was voided or changed while it was verified. */
const wrongPassword = () =>
  new AppError("unauthenticated", { detail: "this email has an account here: give its password" });

const invalidToken = () =>
  new AppError("invalid_token", { detail: "the invitation is unknown, used, revoked or expired" });

/** `/api/v1/admin/invitations` and `/api/v1/auth/accept-invitation`. */
export const invitationRoutes = createRouter()
  .openapi(create, async (c) => {
    principalOf(c, "user", "api_key");
    const tenant = tenantOf(c);
    const { email, roles } = c.req.valid("json");
    // Charged before the directory, so a refused one neither revokes the pending invitation nor mails.
    const spent = await spendInvitationMail(c, tenant.id, email);
    const secret = await newSecret("pli");
    const ctx = originOf(c);
    // From the same instant as created_at: the token lives exactly INVITATION_TTL_DAYS, or until
    // the sending key expires when that is sooner (the directory caps it).
    const expiresAt = new Date(Date.parse(ctx.now) + INVITATION_TTL_MS).toISOString();
    const result = await directory(c.env, tenant.id).createInvitation({
      ctx,
      invitation: { id: newId(), email, roles: [...new Set(roles)], tokenHash: secret.hash, expiresAt },
    });
    if (!result.ok) {
      // Nothing is mailed: the budgets are given back, so a typo in a role costs the tenant nothing.
      for (const charge of spent) await refund(c, charge);
      if (result.error === "denied") throw refused(c, result.refusal);
      throw new AppError("validation_failed", {
        detail: "a role does not exist",
        errors: [{ path: "body.roles", message: "every role must exist in this tenant" }],
      });
    }
    await notifierOf(c).send({
      tenantId: tenant.id,
      to: email,
      kind: "identity.invitation",
      ...invitationMail({
        tenantName: tenant.name,
        token: secret.token,
        roles: result.value.roles,
        deadline: result.value.expires_at < expiresAt ? result.value.expires_at : null,
        link: linkFor((await directory(c.env, tenant.id).settings()).mail_links.invitation, secret.token),
      }),
    });
    c.header("Location", `/api/v1/admin/invitations/${result.value.id}`);
    return c.json(result.value, 201);
  })
  .openapi(list, async (c) => {
    const { limit, cursor, status } = c.req.valid("query");
    const page = await directory(c.env, tenantOf(c).id).listInvitations({
      status,
      limit,
      cursor: cursor ?? null,
      now: isoNow(c.get("clock")),
    });
    const manages = managesInvitations(c);
    return c.json({ items: page.items.map((i) => invitationShown(i, manages)), next_cursor: page.next }, 200);
  })
  .openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const found = await directory(c.env, tenantOf(c).id).getInvitation({ id, now: isoNow(c.get("clock")) });
    if (!found) throw new AppError("not_found", { detail: "no such invitation" });
    return c.json(invitationShown(found, managesInvitations(c)), 200);
  })
  .openapi(revoke, async (c) => {
    const { id } = c.req.valid("param");
    const result = await directory(c.env, tenantOf(c).id).revokeInvitation({ ctx: originOf(c), id });
    if (!result.ok && result.error === "not_found") throw new AppError("not_found", { detail: "no such invitation" });
    // It exists (GET shows it), so not 404: its state is what stands in the way.
    if (!result.ok) throw new AppError("conflict", { detail: `the invitation is no longer pending: ${result.error}` });
    return c.body(null, 204);
  })
  .openapi(accept, async (c) => {
    const tenant = tenantOf(c);
    const { token, password, name } = c.req.valid("json");
    await enforce(c, "login_ip", clientIp(c));
    const dir = directory(c.env, tenant.id);
    const tokenHash = await sha256Hex(token);
    const found = await dir.invitationLookup({ tokenHash, now: isoNow(c.get("clock")) });
    if (!found) throw invalidToken();
    let newUser: { id: string; name: string; passwordHash: string } | null = null;
    let challenge: Awaited<ReturnType<typeof secondFactor>> = null;
    if (found.existing) {
      // Holding the token proves the mailbox, not the account: the account's password is asked for too,
      // and its second factor, as at login (the session then waits for POST /auth/two-factor). The password
      // is a guess like a login's, so it spends the account's login budget first (given back when right).
      const guess = await enforce(c, "login", found.email);
      const verdict = await hasher.verify(found.existing.passwordHash, password);
      if (!verdict.ok) throw wrongPassword();
      await refund(c, guess);
      // Told only after the password, as a login tells it, and before a second factor's challenge is
      // stored for a sign-in that cannot happen (acceptInvitation refuses it too, should it come meanwhile).
      if (found.existing.suspended) throw accountSuspended();
      challenge = await secondFactor(c, dir, found.existing.userId, {
        hash: found.existing.passwordHash,
        rehash: null,
        refused: wrongPassword,
      });
    } else {
      const strong = NewPasswordSchema.safeParse(password);
      if (!strong.success) {
        throw new AppError("validation_failed", {
          detail: "the password does not meet the rules",
          errors: strong.error.issues.map((i) => ({ path: "body.password", message: i.message })),
        });
      }
      newUser = { id: newId(), name, passwordHash: await hasher.hash(password) };
    }
    const userId = found.existing?.userId ?? newUser?.id ?? "";
    const refresh = await newSecret("plr");
    const familyId = newId();
    const result = await dir.acceptInvitation({
      ctx: originOf(c, { kind: "user", id: userId }),
      tokenHash,
      newUser,
      // The hash the password was verified against: a reset or change committed since refuses it (as at login).
      existing: found.existing ? { userId: found.existing.userId, verifiedHash: found.existing.passwordHash } : null,
      session: challenge ? null : { familyId, refreshHash: refresh.hash },
      userAgent: clampUserAgent(c.req.header("user-agent")),
    });
    // The password was voided (an administrator's reset with sign_out) or changed while it was verified:
    // refused as the wrong password it now is, as a login refuses it.
    if (!result.ok && result.error === "password_changed") throw wrongPassword();
    if (!result.ok && result.error === "changed") {
      throw new AppError("conflict", { detail: "the account changed while accepting; try again" });
    }
    // Told only after the account's password was given, as a login tells it.
    if (!result.ok && result.error === "suspended") throw accountSuspended();
    if (!result.ok) throw invalidToken();
    // New roles: cached principals of this user are stale.
    evictUser(tenant.id, userId);
    c.header("Cache-Control", "no-store");
    if (challenge) return c.json(challenge, 200);
    return c.json(await tokenPair(c, tenant.id, result.value, familyId, refresh.token), 200);
  });
