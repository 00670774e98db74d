import { z } from "zod";

/**
 * The events the tenant directory publishes: the identity module's
 * declaration of them, and the schema every subscriber parses them with.
 * Payloads carry ids, never email addresses or secrets: events are
 * immutable, and personal data must stay erasable. `tenants.tenant.*` are
 * here because the directory writes them, in the transaction that creates
 * the tenant's roles and first key or changes its record (tenant-row.ts).
 */
const event = <T extends string, D extends z.ZodRawShape>(type: T, data: D) =>
  z.object({ type: z.literal(type), data: z.object(data) });

const user = { user_id: z.string() };
const family = { user_id: z.string(), family_id: z.string() };
const role = { name: z.string(), permissions: z.array(z.string()), description: z.string() };
const binding = { user_id: z.string(), role: z.string() };

export const IdentityEventSchema = z.discriminatedUnion("type", [
  event("tenants.tenant.created", { id: z.string(), slug: z.string(), name: z.string(), plan: z.string() }),
  /** An operator's change: the name and plan after it, and which of them changed. */
  event("tenants.tenant.updated", {
    id: z.string(),
    name: z.string(),
    plan: z.string(),
    fields: z.array(z.enum(["name", "plan"])),
  }),
  /** The reason is the operator's word to the tenant (its administrators read it in the audit log), never shown to its users. */
  event("tenants.tenant.suspended", { id: z.string(), reason: z.string().nullable() }),
  event("tenants.tenant.resumed", { id: z.string() }),
  event("identity.user.registered", { user_id: z.string(), roles: z.array(z.string()) }),
  event("identity.user.updated", { user_id: z.string(), fields: z.array(z.string()) }),
  event("identity.user.deleted", user),
  /** An administrator blocked the account; `reason` is theirs, as given (null: none). */
  event("identity.user.suspended", { user_id: z.string(), reason: z.string().nullable() }),
  event("identity.user.reactivated", user),
  /** An administrator (or a key) took a copy of the user's personal data (GET /api/v1/users/{id}/export). */
  event("identity.user.exported", user),
  event("identity.user.email_verified", user),
  /** The user asked to change their address (a token went to the new one if it was free); never the address. */
  event("identity.user.email_change_requested", user),
  /** The new address confirmed the change: it is the account's now, verified. */
  event("identity.user.email_changed", user),
  event("identity.user.logged_in", family),
  event("identity.invitation.created", { invitation_id: z.string(), roles: z.array(z.string()) }),
  event("identity.invitation.revoked", {
    invitation_id: z.string(),
    reason: z.enum(["revoked", "replaced", "invitee_deleted", "inviter_deleted", "inviter_revoked"]),
  }),
  event("identity.invitation.accepted", { invitation_id: z.string(), user_id: z.string() }),
  /** Registration refused by the signup policy (no email: a refusal says nothing of who tried). */
  event("identity.signup.refused", { mode: z.string() }),
  event("identity.login.failed", {
    reason: z.enum(["unknown_email", "bad_password", "email_not_verified", "suspended"]),
  }),
  event("identity.token.refreshed", family),
  event("identity.token.family_revoked", { ...family, reason: z.string() }),
  /** A session (refresh-token family) revoked through the sessions API, by its user (`self`) or an administrator. */
  event("identity.session.revoked", { ...family, by: z.enum(["self", "admin"]) }),
  /** `user_id` is null for an email with no account: the request did the same work. */
  event("identity.password.reset_requested", { user_id: z.string().nullable() }),
  /** A new verification mail asked for; `user_id` is null for an email with no unverified account. */
  event("identity.user.verification_requested", { user_id: z.string().nullable() }),
  event("identity.password.reset", user),
  event("identity.password.changed", user),
  event("identity.key.created", {
    key_id: z.string(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.string()),
    expires_at: z.string().nullable(),
  }),
  /** A key revoked with the key that created it, or with the deleted user who did, names its cause. */
  event("identity.key.revoked", {
    key_id: z.string(),
    cause: z.enum(["cascade", "creator_deleted"]).optional(),
    parent_key_id: z.string().optional(),
    user_id: z.string().optional(),
  }),
  /** Single sign-on: the provider's public settings (never its client secret) and which fields changed. */
  event("identity.sso.configured", {
    issuer: z.string(),
    client_id: z.string(),
    fields: z.array(z.string()),
  }),
  event("identity.sso.removed", { issuer: z.string() }),
  /** A provider identity linked to its account by the account's user, signed in (`POST /me/sso/link`). */
  event("identity.sso.linked", { user_id: z.string(), issuer: z.string() }),
  /**
   * A provider identity unlinked from its account: by the account's user (`self`, `DELETE /me/sso`) or an
   * administrator (`admin`, `DELETE /admin/users/{id}/sso`). One event per identity (one per issuer).
   * `sessions_ended`: the live sessions that identity had signed in, revoked with it (absent from
   * events recorded before unlinking ended them).
   */
  event("identity.sso.unlinked", {
    user_id: z.string(),
    issuer: z.string(),
    by: z.enum(["self", "admin"]),
    sessions_ended: z.number().int().min(0).optional(),
  }),
  /** A sign-in through the provider: the user and the session it started (no email, no provider tokens). */
  event("identity.sso.login", { user_id: z.string(), family_id: z.string(), issuer: z.string() }),
  /**
   * A sign-in refused after the provider vouched for it: the account is linked to another identity
   * (`identity_conflict`), or is an owner's or has two-factor on and links only explicitly
   * (`link_required`); an explicit link whose account's email is not the one asserted (`link_mismatch`);
   * or a new user would be provisioned into `roles` that no longer exist
   * (`role_missing`, no user: on the provider's stream); the account is suspended (`suspended`).
   */
  event("identity.sso.refused", {
    user_id: z.string().nullable(),
    issuer: z.string(),
    reason: z.enum(["identity_conflict", "link_required", "link_mismatch", "role_missing", "suspended"]),
    roles: z.array(z.string()).optional(),
  }),
  /** A user created just in time by a single sign-on, with the roles the mapping gave. */
  event("identity.user.provisioned", { user_id: z.string(), roles: z.array(z.string()), via: z.literal("sso") }),
  event("identity.keys.created", {}),
  event("identity.keys.destroyed", {}),
  event("identity.role.created", role),
  event("identity.role.updated", role),
  event("identity.role.deleted", { name: z.string() }),
  event("identity.role.granted", binding),
  event("identity.role.revoked", binding),
  /** The settings after the change, and which fields changed (events before `fields` existed carry only `require_verified_email`). */
  // Two-factor authentication (TOTP). No secret, code or hash ever: ids, stages and reasons.
  event("identity.two_factor.enrolment_started", user),
  event("identity.two_factor.enabled", user),
  event("identity.two_factor.disabled", { user_id: z.string(), reason: z.enum(["user", "admin_reset"]) }),
  event("identity.two_factor.recovery_code_used", { user_id: z.string(), remaining: z.number().int() }),
  /** Password accepted; a challenge for the second factor was issued. */
  event("identity.login.two_factor_challenged", user),
  event("identity.login.two_factor_failed", {
    user_id: z.string(),
    stage: z.enum(["login", "confirm", "disable", "delete_account", "sso_link", "sso_unlink", "email_change"]),
    method: z.enum(["totp", "recovery_code"]),
    reason: z.string(),
  }),
  /** Password accepted, login refused: the tenant requires two-factor of this user's roles and they have none. */
  event("identity.login.two_factor_refused", user),
  event("identity.settings.updated", {
    require_verified_email: z.boolean(),
    signup: z.object({ mode: z.string(), domains: z.array(z.string()) }).optional(),
    require_two_factor_for_admins: z.boolean().optional(),
    cors_origins: z.array(z.string()).optional(),
    rate_limits: z.record(z.string(), z.object({ limit: z.number(), period_s: z.number() })).optional(),
    mail_links: z.record(z.string(), z.string().nullable()).optional(),
    version: z.number().int().optional(),
    fields: z.array(z.string()).optional(),
  }),
]);

/** An event the directory emits: its type and data. */
export type IdentityEvent = z.infer<typeof IdentityEventSchema>;
