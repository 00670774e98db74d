import { z } from "zod";
import { MAX_PERMISSION_LENGTH } from "../../../kernel/auth/permissions";
import { EraseRpc } from "../../../kernel/durable/erase";
import { defineRpc, rpcClient } from "../../../kernel/durable/rpc";
import { ExpectedVersionSchema } from "../../../kernel/http/if-match";
import { RECIPIENT_DIGEST } from "../../../kernel/notify/recipient-digest";
import { Email, Hash, Id, Iso, Page, PasswordHash, pageOf, RoleName, UserAgent, withCtx } from "./contract-shapes";
import { KEY_PURGE_MAX } from "./credentials";
import { EmailChangeRpc } from "./email-change-contract";
import { GrantSchema, GrantsSchema as Grants } from "./grant-schemas";
import { InvitationsRpc } from "./invitations-contract";
import { MAIL_DISMISSALS_MAX } from "./mail-dismissals";
import { AdminPasswordResetRpc } from "./password-reset-contract";
import { PersonalDataRpc } from "./personal-data-contract";
import { ROLE_HOLDERS_MAX } from "./role-holders";
import { RoleUsesSchema } from "./role-uses";
import { MAX_ROLES } from "./roles";
import { DirectoryResealSchema, DirectorySealedSchema, SEALED_PAGE_MAX } from "./sealed";
import { SettingsPatchSchema, SettingsSchema } from "./settings";
import { SsoRpc } from "./sso-contract";
import { SuspensionRpc } from "./suspension-contract";
import { TenantChangeSchema, TenantStateSchema } from "./tenant-state";
import { DirectoryProofSchema, TwoFactorStatusSchema } from "./two-factor";
import {
  DeniedSchema,
  deniableOf,
  deniableResultOf,
  KeyViewSchema,
  RoleInputSchema,
  RoleViewSchema,
  resultOf,
  SessionViewSchema,
  UserPrincipalSchema,
  UserViewSchema,
  VerifiedKeySchema,
  VersionConflictSchema,
} from "./types";

/** A recipient digest (kernel/notify/recipient-digest.ts): the deleted account's mail dead letters, found again later. */
const Digest = z.string().regex(RECIPIENT_DIGEST);
/** A refresh token's successor sealed for the grace: base64url of a nonce and a ciphertext (~120 chars). */
const SealedSuccessor = z.string().regex(/^[A-Za-z0-9_-]{1,256}$/);
/**
 * A deleted user's loose ends, for the Worker to settle after the directory's commit: the keys
 * revoked with them (out of the D1 key index) and their email (their mail dead letters go).
 */
const RemovedUserSchema = z.object({
  revokedKeys: z.array(z.object({ id: z.string(), hash: z.string() })),
  email: z.string(),
});
const nothing = z.void();
const SealedSecret = z.string().min(1).max(512);
const Step = z.number().int().min(0);
/** Whom to mail a token asked for by address, or null; a suspended account gets a notice instead (no token stored). */
const MailedOnRequest = z.object({ email: z.string(), suspended: z.boolean() }).nullable();

/**
 * The TenantDirectory's RPC contract: each method's argument and reply,
 * written once. The Durable Object implements it (durable-objects/
 * tenant-directory.ts), and {@link directory} is the only way to call it.
 */
export const DirectoryRpc = defineRpc({
  /** Offboarding: forgets users, keys, sessions, settings, the tenant record and its key seed. */
  ...EraseRpc,
  init: {
    args: withCtx({
      tenant: z.object({ id: Id, slug: z.string().max(63), name: z.string().max(200), plan: z.string().max(64) }),
      adminKey: z.object({ id: Id, name: z.string().max(200), prefix: z.string().max(64), hash: Hash }),
      grants: Grants.default({}),
    }),
    reply: z.object({ created: z.boolean() }),
  },
  /**
   * Brings the modules' grants to the tenant's default roles: each one not yet applied here is
   * added to its role (an `identity.role.updated` by `ctx.actor`) unless the role covers it or
   * is gone, and recorded, so it is never added again (module-grants.ts).
   */
  applyGrants: {
    args: withCtx({ grants: Grants }),
    reply: z.object({ added: z.array(GrantSchema), recorded: z.number().int().min(0), baseline: z.boolean() }),
  },
  /** The directory's own record of its tenant; null before `init`. */
  tenantState: { args: nothing, reply: TenantStateSchema.nullable() },
  /** An operator's change of the tenant (name, plan, suspension): the state after it, and whether it changed. */
  changeTenant: {
    args: withCtx({ change: TenantChangeSchema, expectedVersion: ExpectedVersionSchema.optional() }),
    reply: z.union([
      resultOf(z.object({ tenant: TenantStateSchema, changed: z.boolean() }), ["not_found"]),
      VersionConflictSchema,
    ]),
  },
  register: {
    args: withCtx({
      user: z.object({ id: Id, email: Email, name: z.string().min(1).max(200), passwordHash: PasswordHash }),
      verification: z.object({ hash: Hash, expiresAt: Iso }),
    }),
    reply: resultOf(UserViewSchema, ["email_taken", "signup_closed"]),
  },
  loginLookup: {
    args: Email,
    // suspended: the Worker tells it only to a caller whose password was right (docs/identity.md).
    reply: z
      .object({ userId: z.string(), passwordHash: z.string(), mayLogin: z.boolean(), suspended: z.boolean() })
      .nullable(),
  },
  loginSucceeded: {
    // verifiedHash: the hash the password was verified against; refused when it is no longer the stored one.
    args: withCtx({
      userId: Id,
      familyId: Id,
      tokenHash: Hash,
      rehash: PasswordHash.nullable(),
      verifiedHash: PasswordHash,
      userAgent: UserAgent,
    }),
    reply: resultOf(UserPrincipalSchema, ["not_found", "password_changed"]),
  },
  loginFailed: {
    args: withCtx({ reason: z.enum(["unknown_email", "bad_password", "email_not_verified", "suspended"]) }),
    reply: nothing,
  },
  refresh: {
    // nextSealed: the successor sealed under the presented token (identity/successor.ts), for the grace.
    args: withCtx({ presentedHash: Hash, nextHash: Hash, nextSealed: SealedSuccessor, userAgent: UserAgent }),
    reply: z.union([
      resultOf(z.object({ principal: UserPrincipalSchema, familyId: z.string(), resent: SealedSuccessor.nullable() }), [
        "invalid",
      ]),
      z.object({ ok: z.literal(false), error: z.literal("reused"), userId: z.string() }),
    ]),
  },
  logout: { args: withCtx({ presentedHash: Hash }), reply: z.object({ userId: z.string().nullable() }) },
  verifyEmail: { args: withCtx({ tokenHash: Hash }), reply: resultOf(z.null(), ["invalid", "suspended"]) },
  resendVerification: {
    args: withCtx({ email: Email, tokenHash: Hash, expiresAt: Iso }),
    reply: MailedOnRequest,
  },
  requestPasswordReset: {
    args: withCtx({ email: Email, tokenHash: Hash, expiresAt: Iso }),
    reply: MailedOnRequest,
  },
  confirmPasswordReset: {
    args: withCtx({ tokenHash: Hash, passwordHash: PasswordHash }),
    // email: the account's, as its login's rate-limit budget is keyed (the reset gives that budget back).
    reply: resultOf(z.object({ userId: z.string(), email: z.string() }), ["invalid", "suspended"]),
  },
  passwordHashOf: { args: Id, reply: z.string().nullable() },
  changePassword: {
    // verifiedHash: the hash the current password was verified against; refused when it is no longer the stored one.
    args: withCtx({ userId: Id, passwordHash: PasswordHash, keepFamily: Id.nullable(), verifiedHash: PasswordHash }),
    reply: resultOf(z.null(), ["password_changed"]),
  },
  getUser: { args: Id, reply: UserViewSchema.nullable() },
  principal: { args: Id, reply: UserPrincipalSchema.nullable() },
  listUsers: { args: Page, reply: pageOf(UserViewSchema) },
  /**
   * Up to `limit` users holding any of `roles`, in id order (role-holders.ts): one indexed read
   * whatever the tenant's size, for the kernel's membersWithRole. At most as many names as a tenant
   * may have roles; a name no role has matches nobody.
   */
  usersWithRole: {
    args: z.object({
      roles: z.array(RoleName).min(1).max(MAX_ROLES),
      limit: z.number().int().min(1).max(ROLE_HOLDERS_MAX),
    }),
    reply: z.array(UserViewSchema).max(ROLE_HOLDERS_MAX),
  },
  /** Another user's profile changes only as the policy allows (`user.update`: the caller holds what the user's roles grant; only an owner changes an owner's). */
  updateUser: {
    args: withCtx({ id: Id, patch: z.object({ name: z.string().min(1).max(200).optional() }) }),
    reply: deniableResultOf(UserViewSchema, ["not_found"]),
  },
  /**
   * `recipient`: the digest of the user's email (the Worker holds the key), kept in the deletion's
   * transaction until `mailDismissed` says D1 dismissed their mail dead letters.
   */
  deleteUser: {
    args: withCtx({ id: Id, recipient: Digest.nullish() }),
    reply: deniableResultOf(RemovedUserSchema, ["not_found", "revokes_caller"]),
  },
  /**
   * A user deletes their own account (the Worker checked the password against `verifiedHash`:
   * `password_changed` when it is no longer the stored one): with two-factor on, only with
   * `proof`, checked and spent here; then as `deleteUser`.
   */
  deleteOwnAccount: {
    args: withCtx({
      userId: Id,
      proof: DirectoryProofSchema.nullable(),
      recipient: Digest.nullish(),
      verifiedHash: PasswordHash,
    }),
    reply: deniableResultOf(RemovedUserSchema, ["not_found", "wrong_proof", "revokes_caller", "password_changed"]),
  },
  createKey: {
    args: withCtx({
      key: z.object({
        id: Id,
        name: z.string().min(1).max(200),
        prefix: z.string().max(64),
        hash: Hash,
        scopes: z.array(z.string().min(1).max(MAX_PERMISSION_LENGTH)).max(200),
        expiresAt: Iso.nullable(),
      }),
    }),
    reply: deniableOf(KeyViewSchema),
  },
  /** The keys live at `now`: an expired one is no more listed than a revoked one. */
  listKeys: { args: Page.extend({ now: Iso }), reply: pageOf(KeyViewSchema) },
  /** One key live at `now`, as listKeys shows it; null when revoked, expired or unknown. */
  getKey: { args: z.object({ id: Id, now: Iso }), reply: KeyViewSchema.nullable() },
  revokeKey: {
    args: withCtx({ id: Id }),
    reply: deniableResultOf(z.array(z.object({ id: z.string(), hash: z.string() })), ["not_found", "revokes_caller"]),
  },
  /** The live key with this hash, with what its creator chain holds now (one call on a cache miss). */
  verifyKey: { args: z.object({ hash: Hash, now: Iso }), reply: VerifiedKeySchema.nullable() },
  touchKey: { args: z.object({ id: Id, now: Iso }), reply: nothing },
  listRoles: { args: nothing, reply: z.array(RoleViewSchema) },
  getRole: { args: RoleName, reply: RoleViewSchema.nullable() },
  createRole: {
    args: withCtx({ role: RoleInputSchema }),
    reply: deniableResultOf(RoleViewSchema, ["exists", "limit"]),
  },
  /** `expectedVersion` (the request's If-Match) is compared with the role's in the step that writes. */
  replaceRole: {
    args: withCtx({ role: RoleInputSchema, expectedVersion: ExpectedVersionSchema.optional() }),
    reply: z.union([deniableResultOf(RoleViewSchema, ["not_found"]), VersionConflictSchema]),
  },
  deleteRole: {
    args: withCtx({ name: RoleName, expectedVersion: ExpectedVersionSchema.optional() }),
    /** `in_use` names what still names the role (users, pending invitations, the SSO configuration). */
    reply: z.union([
      deniableResultOf(z.object({ version: z.number().int() }), ["not_found"]),
      VersionConflictSchema,
      z.object({ ok: z.literal(false), error: z.literal("in_use"), uses: RoleUsesSchema }),
    ]),
  },
  bindRole: {
    args: withCtx({ userId: Id, role: RoleName, grant: z.boolean() }),
    reply: deniableResultOf(z.null(), ["no_user", "no_role"]),
  },
  keySeed: { args: z.object({ create: z.boolean(), now: Iso }), reply: z.string().nullable() },
  // Re-encryption under a new ENCRYPTION_KEYS version (docs/crypto.md): the Worker reads the
  // ciphertexts, re-seals the stale ones, and the directory swaps each one still unchanged.
  /** A page of the sealed values (SealedValues.page): the SSO secret first, then TOTP secrets by user id. */
  sealedValues: {
    args: z.object({
      after: z.string().max(64).optional(),
      limit: z.number().int().min(1).max(SEALED_PAGE_MAX).default(SEALED_PAGE_MAX),
    }),
    reply: z.object({ values: z.array(DirectorySealedSchema), next: z.string().nullable() }),
  },
  resealValues: {
    args: z.object({ reseals: z.array(DirectoryResealSchema).max(1_000) }),
    reply: z.object({ resealed: z.number().int().min(0), raced: z.number().int().min(0) }),
  },
  destroyKeyMaterial: { args: withCtx({}), reply: nothing },
  settings: { args: nothing, reply: SettingsSchema },
  updateSettings: {
    args: withCtx({ patch: SettingsPatchSchema, expectedVersion: ExpectedVersionSchema.optional() }),
    reply: z.union([z.object({ ok: z.literal(true), value: SettingsSchema }), VersionConflictSchema, DeniedSchema]),
  },
  purgeExpired: {
    /**
     * `keysExpiredBefore`: API keys that expired before it are forgotten (the job keeps them a while);
     * `invitationsEndedBefore`: likewise invitations accepted, revoked or expired before it.
     */
    args: z.object({ now: Iso, keysExpiredBefore: Iso, invitationsEndedBefore: Iso }),
    reply: z.object({
      one_time_tokens: z.number().int(),
      families: z.number().int(),
      refresh_tokens: z.number().int(),
      /** The forgotten keys' hashes, to remove from the D1 key index. */
      key_hashes: z.array(Hash).max(KEY_PURGE_MAX),
      invitations: z.number().int(),
      /** Deleted accounts' mail dead letters still to dismiss, by recipient digest: the job retries them. */
      mail_dismissals: z.array(Digest).max(MAIL_DISMISSALS_MAX),
    }),
  },
  /** D1 dismissed the mail dead letters to these recipient digests: the directory forgets them. */
  mailDismissed: {
    args: z.object({ digests: z.array(Digest).max(MAIL_DISMISSALS_MAX) }),
    reply: nothing,
  },
  // Single sign-on through OpenID Connect (issue 16): sso-contract.ts.
  ...SsoRpc,
  ...EmailChangeRpc,
  ...SuspensionRpc,
  ...AdminPasswordResetRpc,
  ...PersonalDataRpc,
  // Sessions (issue 16): a user's refresh-token families, listed and revoked by the user or, under the
  // authority policy (only an owner signs out an owner), by an administrator.
  listSessions: {
    args: z.object({ userId: Id, now: Iso, page: Page }),
    reply: resultOf(pageOf(SessionViewSchema), ["not_found"]),
  },
  revokeSession: {
    args: withCtx({ userId: Id, sessionId: Id }),
    reply: deniableResultOf(z.null(), ["not_found"]),
  },
  revokeSessions: {
    args: withCtx({ userId: Id, keep: Id.nullable() }),
    reply: deniableResultOf(z.object({ revoked: z.number().int().min(0) }), ["not_found"]),
  },
  outbox: { args: z.number().int().min(1).max(100).default(100), reply: z.array(z.string()) },

  ...InvitationsRpc,
  // Two-factor authentication (TOTP, RFC 6238): durable-objects/directory/two-factor.ts.
  // Secrets cross sealed (the Worker seals and opens them); codes never cross, only the
  // time step a code matched or a recovery code's hash.
  twoFactorStatus: { args: Id, reply: TwoFactorStatusSchema },
  twoFactorBegin: {
    args: withCtx({ userId: Id, sealedSecret: SealedSecret }),
    reply: resultOf(z.object({ email: z.string() }), ["not_found", "enabled"]),
  },
  twoFactorSecret: { args: Id, reply: z.object({ sealedSecret: z.string(), enabled: z.boolean() }).nullable() },
  twoFactorConfirm: {
    // verifiedSecret: the pending sealed secret the code was verified against; `invalid` once another replaced it.
    args: withCtx({
      userId: Id,
      step: Step.nullable(),
      recoveryHashes: z.array(Hash).min(1).max(20),
      verifiedSecret: SealedSecret,
    }),
    reply: resultOf(z.null(), ["invalid"]),
  },
  twoFactorDisable: {
    args: withCtx({ userId: Id, proof: DirectoryProofSchema }),
    reply: resultOf(z.null(), ["invalid"]),
  },
  twoFactorReset: { args: withCtx({ userId: Id }), reply: deniableResultOf(z.null(), ["not_found", "off"]) },
  /**
   * After a correct password: `none` (log in as before), `challenge` (stored; the
   * second factor completes the login) or `enrolment_required` (refused by the
   * tenant's require_two_factor_for_admins). `rehash` is stored for the first two.
   */
  loginSecondFactor: {
    args: withCtx({
      userId: Id,
      challengeHash: Hash,
      expiresAt: Iso,
      adminPermissions: z.array(z.string().max(MAX_PERMISSION_LENGTH)).max(500),
      rehash: PasswordHash.nullable(),
      verifiedHash: PasswordHash,
    }),
    reply: z.enum(["none", "challenge", "enrolment_required", "password_changed"]),
  },
  twoFactorChallenge: {
    args: z.object({ challengeHash: Hash, now: Iso }),
    reply: z.object({ userId: z.string(), sealedSecret: z.string() }).nullable(),
  },
  /** Spends the challenge, checks the proof, starts the session; a wrong proof leaves the challenge live. */
  twoFactorComplete: {
    args: withCtx({
      challengeHash: Hash,
      userId: Id,
      proof: DirectoryProofSchema,
      familyId: Id,
      tokenHash: Hash,
      userAgent: UserAgent,
    }),
    /**
     * `provider_replaced`: a single sign-on's challenge whose provider (issuer, client) is no longer the tenant's;
     * `domain_not_allowed`: one whose email's domain the provider's allowed_domains no longer lists.
     */
    reply: resultOf(UserPrincipalSchema, [
      "invalid",
      "suspended",
      "wrong_proof",
      "identity_conflict",
      "provider_replaced",
      "domain_not_allowed",
    ]),
  },
});

/** The typed client of a tenant's directory: the only way code outside it reaches the Durable Object. */
export function directory(env: Env, tenantId: string) {
  return rpcClient(DirectoryRpc, env.TENANT_DIRECTORY.getByName(tenantId), "TenantDirectory");
}
