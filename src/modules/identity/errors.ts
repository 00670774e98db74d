import { defineErrorCodes } from "../../kernel/errors/codes";

/**
 * The identity module's error codes, part of the public contract: one per
 * case, so a client can tell "the last owner" from "a role still held".
 * Refusals of authority answer the kernel's `forbidden`; an email or slug
 * taken, the kernel's `conflict` (as the contract says).
 */
export const identityErrors = defineErrorCodes({
  last_owner: { status: 409, title: "Last owner" },
  owner_role_fixed: { status: 409, title: "Owner role is fixed" },
  role_in_use: { status: 409, title: "Role in use" },
  role_exists: { status: 409, title: "Role exists" },
  /** The tenant holds the most roles it may (kernel MAX_ROLES, built-in ones included). */
  role_limit_reached: { status: 409, title: "Role limit reached" },
  /** A key asked to revoke a key that minted it: the cascade would revoke the caller too. */
  revokes_own_key: { status: 409, title: "Revocation would revoke the calling key" },
  email_not_verified: { status: 403, title: "Email not verified" },
  /**
   * A sign-in (password, two-factor, single sign-on, reset, invitation) of an account an administrator
   * suspended; told only to a caller who proved the account, as email_not_verified is.
   */
  account_suspended: { status: 403, title: "Account suspended" },
  wrong_password: { status: 403, title: "Wrong password" },
  signup_closed: { status: 403, title: "Signup closed" },
  // Single sign-on (OpenID Connect), docs/identity.md#single-sign-on
  sso_not_configured: { status: 404, title: "Single sign-on not configured" },
  sso_state_invalid: { status: 400, title: "Sign-in state unknown, used or expired" },
  /** A sign-in begun by a browser's navigation came back in a browser without its cookie (login CSRF, or another browser). */
  sso_browser_mismatch: { status: 400, title: "Sign-in begun in another browser" },
  sso_provider_error: { status: 400, title: "Identity provider error" },
  sso_id_token_invalid: { status: 400, title: "ID token invalid" },
  sso_email_unverified: { status: 403, title: "Email not verified by the identity provider" },
  sso_domain_not_allowed: { status: 403, title: "Email domain not allowed" },
  sso_identity_conflict: { status: 403, title: "Account linked to another identity" },
  /** The email's account is an owner's or two-factor protects it: it is linked only by its user, signed in. */
  sso_link_required: { status: 409, title: "Account must be linked explicitly" },
  /** An explicit link (POST /me/sso/link) came back with an identity whose email is not the account's. */
  sso_link_mismatch: { status: 403, title: "Identity does not match the account" },
  /** Login refused: the tenant requires two-factor of this user's roles, and they have not enrolled. */
  two_factor_required: { status: 403, title: "Two-factor required" },
  /** A TOTP or recovery code that is wrong, already used, or given where two-factor is not set up. */
  wrong_two_factor_code: { status: 403, title: "Wrong two-factor code" },
  two_factor_enabled: { status: 409, title: "Two-factor already enabled" },
});

/** A code of the identity module. */
export type IdentityErrorCode = keyof typeof identityErrors;
