import { z } from "zod";
import { defineRpc } from "../../../kernel/durable/rpc";
import { OriginSchema } from "../../../kernel/events/origin";
import { Hash, Id } from "./contract-shapes";
import { deniableResultOf } from "./types";

/** Whom to mail the reset token, and how many sessions ended with it (`sign_out`; else 0). */
const Issued = z.object({ email: z.string(), sessionsEnded: z.number().int().min(0) });

/**
 * The TenantDirectory's administrator-initiated password reset (durable-objects/directory/
 * password-reset.ts): asked of the authority policy in the same call as the write, as a
 * two-factor reset is. `suspended`: the user is, and a reset token could not be spent.
 */
export const AdminPasswordResetRpc = defineRpc({
  resetUserPassword: {
    args: z.object({
      ctx: OriginSchema,
      id: Id,
      tokenHash: Hash,
      expiresAt: z.iso.datetime(),
      signOut: z.boolean(),
    }),
    reply: deniableResultOf(Issued, ["not_found", "suspended"]),
  },
});
