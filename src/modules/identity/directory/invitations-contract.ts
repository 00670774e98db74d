import { z } from "zod";
import { defineRpc } from "../../../kernel/durable/rpc";
import { Email, Hash, Id, Iso, Page, PasswordHash, pageOf, RoleName, UserAgent, withCtx } from "./contract-shapes";
import { InvitationLookupSchema, InvitationStatusSchema, InvitationViewSchema } from "./invitations";
import { deniableResultOf, MAX_INVITATION_ROLES, resultOf, UserPrincipalSchema } from "./types";

/**
 * The TenantDirectory's invitations (durable-objects/directory/membership.ts): part of its RPC
 * contract (contract.ts spreads it), apart so that file stays one screenful of each concern.
 */
export const InvitationsRpc = defineRpc({
  createInvitation: {
    args: withCtx({
      invitation: z.object({
        id: Id,
        email: Email,
        roles: z.array(RoleName).min(1).max(MAX_INVITATION_ROLES),
        tokenHash: Hash,
        expiresAt: Iso,
      }),
    }),
    reply: deniableResultOf(InvitationViewSchema, ["no_role"]),
  },
  listInvitations: {
    args: Page.extend({ now: Iso, status: InvitationStatusSchema.default("pending") }),
    reply: pageOf(InvitationViewSchema),
  },
  /** Any status, until the purge forgets an ended one (`invitationsEndedBefore`). */
  getInvitation: { args: z.object({ id: Id, now: Iso }), reply: InvitationViewSchema.nullable() },
  /** A non-pending invitation fails with how it ended. */
  revokeInvitation: {
    args: withCtx({ id: Id }),
    reply: resultOf(z.null(), ["not_found", "accepted", "revoked", "expired"]),
  },
  /** What accepting a token needs to know first: its email, and that email's account here (the Worker checks its password). */
  invitationLookup: {
    args: z.object({ tokenHash: Hash, now: Iso }),
    reply: InvitationLookupSchema,
  },
  acceptInvitation: {
    args: withCtx({
      tokenHash: Hash,
      /** The new account, or null when the lookup found one (which then gains the roles). */
      newUser: z.object({ id: Id, name: z.string().min(1).max(200), passwordHash: PasswordHash }).nullable(),
      /**
       * The account the lookup found, or null for a new one; `verifiedHash` is the hash its password was
       * verified against (the lookup's): refused as `password_changed` when it is no longer the stored one.
       */
      existing: z.object({ userId: Id, verifiedHash: PasswordHash }).nullable(),
      /** The session to start; null when the existing account's second factor must complete the sign-in first. */
      session: z.object({ familyId: Id, refreshHash: Hash }).nullable(),
      userAgent: UserAgent,
    }),
    reply: resultOf(UserPrincipalSchema, ["invalid", "changed", "suspended", "password_changed"]),
  },
});
