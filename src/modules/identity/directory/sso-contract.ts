import { z } from "zod";
import { MAX_PERMISSION_LENGTH } from "../../../kernel/auth/permissions";
import { defineRpc } from "../../../kernel/durable/rpc";
import { ExpectedVersionSchema } from "../../../kernel/http/if-match";
import { SsoSettingsSchema, SsoStoredSchema } from "../sso/schemas";
import { Hash, Id, Iso, PasswordHash, RoleName, UserAgent, withCtx } from "./contract-shapes";
import { DirectoryProofSchema } from "./two-factor";
import { deniableResultOf, resultOf, UserPrincipalSchema, VersionConflictSchema } from "./types";

// Argument shapes of its own; the shared ones are contract-shapes.ts's.
/** The longest email the directory keeps (as the API's own EmailSchema takes). */
export const SSO_EMAIL_MAX = 320;
/** The longest `sub` an ID token may carry (OpenID Connect Core 1.0, 2: 255 ASCII characters). */
export const SSO_SUBJECT_MAX = 255;
const Email = z.string().min(3).max(SSO_EMAIL_MAX);
const AdminPermissions = z.array(z.string().max(MAX_PERMISSION_LENGTH)).max(500);
const nothing = z.void();

/**
 * The directory's single sign-on methods (OpenID Connect, issue 16), part of
 * DirectoryRpc (contract.ts): the provider, an explicit link's proof, spent states, and the sign-in
 * itself. Implemented by durable-objects/directory/sso.ts.
 */
export const SsoRpc = defineRpc({
  ssoProvider: { args: nothing, reply: SsoStoredSchema.nullable() },
  putSso: {
    args: withCtx({
      config: SsoSettingsSchema,
      /** Null keeps the stored secret. */
      sealedSecret: z.string().min(1).max(4096).nullable(),
      expectedVersion: ExpectedVersionSchema.optional(),
    }),
    reply: z.union([deniableResultOf(SsoStoredSchema, ["secret_required", "no_role"]), VersionConflictSchema]),
  },
  deleteSso: { args: withCtx({}), reply: resultOf(z.null(), ["not_found"]) },
  /**
   * The directory's side of an explicit link's start (`POST /me/sso/link`): nothing is stored (the
   * sign-in under way is sealed into its `state`, sso/state.ts); the account's proof is checked. A
   * signed-in user linking their account (the Worker checked the password against `verifiedHash`:
   * `password_changed` when it is no longer the stored one): with two-factor on, `proof` is
   * checked (a code spent here, a recovery code only checked: the callback spends it).
   */
  ssoBegin: {
    args: withCtx({
      link: z.object({ userId: Id, proof: DirectoryProofSchema.nullable(), verifiedHash: PasswordHash }),
      /** As for ssoLogin: a link of an account the tenant requires two-factor of, not enrolled, is refused. */
      adminPermissions: AdminPermissions.default([]),
    }),
    /**
     * What the state carries to the callback: whether a second factor was proven, and the recovery
     * code's hash when that proof was one (spent only if the callback links).
     */
    reply: resultOf(z.object({ secondFactor: z.boolean(), recoveryHash: Hash.nullable() }), [
      "not_configured",
      "not_found",
      "wrong_proof",
      "two_factor_required",
      "password_changed",
    ]),
  },
  /**
   * A user unlinks their own identity (the Worker checked the password against `verifiedHash`:
   * `password_changed` when it is no longer the stored one); with two-factor on, `proof` is
   * checked and spent here, as for deleting the account.
   */
  ssoUnlinkOwn: {
    args: withCtx({ userId: Id, proof: DirectoryProofSchema.nullable(), verifiedHash: PasswordHash }),
    reply: resultOf(z.null(), ["not_found", "wrong_proof", "password_changed"]),
  },
  /** An administrator unlinks a user's identity: allowed as signing them out is (policy `user.sso.unlink`). */
  ssoUnlinkUser: {
    args: withCtx({ userId: Id }),
    reply: deniableResultOf(z.null(), ["not_found"]),
  },
  /** Whether a callback the provider answered has spent this state already (a replay): read only. */
  ssoStateSpent: { args: z.object({ stateHash: Hash }), reply: z.boolean() },
  /**
   * Spends a state, once the provider answered its code: kept until the state's expiry so a replay
   * is refused. `spent` when it was spent already; `evicted`, spent states forgotten to stay within
   * MAX_SPENT_STATES (sso.ts), for the operator's log.
   */
  ssoSpendState: {
    args: withCtx({ stateHash: Hash, expiresAt: Iso }),
    reply: resultOf(z.object({ evicted: z.number().int().nonnegative() }), ["spent"]),
  },
  ssoLogin: {
    args: withCtx({
      email: Email,
      name: z.string().min(1).max(200),
      issuer: z.string().max(2048),
      /**
       * The client the ID token was verified for (its `aud`): with `issuer`, the provider the sign-in is
       * good for; refused when the tenant's is another by now, and recorded with a challenge (two-factor.ts).
       */
      clientId: z.string().min(1).max(255),
      /** The ID token's `sub`: the provider's stable id of the person, which the account is linked to. */
      subject: z.string().min(1).max(SSO_SUBJECT_MAX),
      /** The roles the mapping gives, used only when the user is provisioned now. */
      roles: z.array(RoleName).min(1).max(50),
      userId: Id,
      /**
       * The session a sign-in starts (its family, its refresh token's hash); null for an explicit link,
       * which starts none, so the Worker mints no secret that nothing would use.
       */
      session: z.object({ familyId: Id, tokenHash: Hash }).nullable(),
      userAgent: UserAgent,
      /** The account a user began an explicit link for (sealed in the state): only it may be reached, by its own email. */
      linkUserId: Id.nullable().default(null),
      /** The recovery code an explicit link was begun with (sealed in the state): spent only if the link happens. */
      linkRecoveryHash: Hash.nullable().default(null),
      /**
       * Whether the explicit link's request proved a second factor (sealed in the state). Without one, an
       * account that has two-factor on now gets the challenge, as any sign-in does.
       */
      linkSecondFactor: z.boolean().default(false),
      /**
       * The permissions whose holders `require_two_factor_for_admins` covers (the declared `admin.*`):
       * while it is on, their accounts link only explicitly, as an owner's does, and sign in only
       * enrolled, with the second step.
       */
      adminPermissions: AdminPermissions,
      /** The challenge (its hash) answered when the account must present plinth's second factor. */
      challengeHash: Hash,
      challengeExpiresAt: Iso,
    }).refine((a) => (a.linkUserId === null) === (a.session !== null), {
      message: "a sign-in carries the session it starts, an explicit link none",
    }),
    reply: z.union([
      resultOf(
        z.object({
          principal: UserPrincipalSchema,
          provisioned: z.boolean(),
          /**
           * Whether the sign-in's `session` started: not for an explicit link, whose user is
           * signed in already and whose callback, bound to no browser, hands out no tokens.
           */
          session: z.boolean(),
        }),
        [
          "signup_closed",
          "not_configured",
          /** The provider (issuer, client) the Worker verified the ID token for was replaced or deleted meanwhile. */
          "provider_replaced",
          /** The email's domain is no longer in allowed_domains (narrowed while the Worker was at the token endpoint). */
          "domain_not_allowed",
          "identity_conflict",
          /** The email's account is an owner's, has two-factor on or must have it (admins): it links only explicitly. */
          "link_required",
          /** An explicit link whose account is gone, or whose provider identity asserts another email. */
          "link_mismatch",
          /** The tenant requires two-factor of the account (administrators) and it has not enrolled. */
          "two_factor_required",
          /** An explicit link's recovery code was used since the request. */
          "wrong_proof",
          /** The account is suspended (docs/identity.md#suspending-a-member). */
          "suspended",
        ],
      ),
      /** A user to provision, mapped to roles that do not exist (a configuration from before deletion checked it). */
      z.object({ ok: z.literal(false), error: z.literal("role_missing"), roles: z.array(z.string()) }),
      /** No session yet: the account has two-factor on, and the challenge (`challengeHash`) awaits its code. */
      z.object({ ok: z.literal(false), error: z.literal("two_factor_challenge") }),
    ]),
  },
});
