import { z } from "zod";
import { defineRpc } from "../../../kernel/durable/rpc";
import { Email, Hash, Id, Iso, PasswordHash, withCtx } from "./contract-shapes";
import { DirectoryProofSchema } from "./two-factor";
import { resultOf } from "./types";

/** The TenantDirectory's email change (email-change.ts): asked with proof, made by the mailed token. */
export const EmailChangeRpc = defineRpc({
  /**
   * A signed-in user asks to change their address (the Worker checked the password against
   * `verifiedHash`: `password_changed` when it is no longer the stored one). With two-factor on,
   * `proof` is checked and spent here, as for deleting the account. `mailTo` is null when the address is
   * taken (nothing stored); `keepFamily`, the asking session, stays signed in when the change is made.
   */
  requestEmailChange: {
    args: withCtx({
      userId: Id,
      newEmail: Email,
      tokenHash: Hash,
      expiresAt: Iso,
      keepFamily: Id.nullable(),
      proof: DirectoryProofSchema.nullable(),
      verifiedHash: PasswordHash,
    }),
    reply: resultOf(z.object({ previous: z.string(), mailTo: z.string().nullable() }), [
      "not_found",
      "wrong_proof",
      "password_changed",
    ]),
  },
  /** Spends an email change's token and makes the change; `email_taken` when the address was taken since. */
  confirmEmailChange: {
    args: withCtx({ tokenHash: Hash }),
    reply: resultOf(z.object({ userId: z.string(), previous: z.string() }), ["invalid", "email_taken"]),
  },
});
