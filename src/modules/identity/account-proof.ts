import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../kernel/env";
import { enforce } from "../../kernel/ratelimit/limiter";
import { confirmCurrentPassword } from "./current-password";
import type { directory } from "./directory/contract";
import type { DirectoryProof } from "./directory/two-factor";
import { identityError } from "./refusals";
import { PresentedPasswordSchema } from "./schemas";
import { proofFor, RecoveryCodeSchema, TotpCodeSchema } from "./two-factor";

/**
 * A body by which a signed-in user proves an account is theirs before a change an access token
 * alone must not make (deleting it, linking or unlinking a provider): the password, and with
 * two-factor on a current code or an unused recovery code, besides `extra`'s fields.
 *
 * @example
 * const LinkSchema = accountProofBody({ redirect_uri: z.string().optional() });
 */
export function accountProofBody<T extends z.ZodRawShape>(extra: T) {
  return z
    .object({
      password: PresentedPasswordSchema,
      code: TotpCodeSchema.optional().openapi({ description: "with two-factor on: a current code…" }),
      recovery_code: RecoveryCodeSchema.optional().openapi({ description: "…or an unused recovery code" }),
      ...extra,
    })
    .refine((b: { code?: unknown; recovery_code?: unknown }) => b.code === undefined || b.recovery_code === undefined, {
      message: "give at most one of code and recovery_code",
      path: ["code"],
    });
}

/**
 * Checks the password (`403 wrong_password`, against the `login` budget) and, with two-factor
 * on, that a code was sent (`403 wrong_two_factor_code`), spending a `two_factor` try; answers
 * the proof the directory checks and spends in the same call as the change (null with
 * two-factor off), so a code is used only by a change that happens, and the stored hash the
 * password was verified against, which the directory compares with the stored one in that
 * call (`password_changed`: reset or changed meanwhile; {@link passwordChanged} answers it).
 *
 * @example
 * const { proof, verifiedHash } = await proveAccount(c, dir, user.id, c.req.valid("json"));
 * const result = await dir.deleteOwnAccount({ ctx: originOf(c), userId: user.id, proof, verifiedHash });
 */
export async function proveAccount(
  c: Context<AppEnv>,
  dir: ReturnType<typeof directory>,
  userId: string,
  presented: { password: string; code?: string | undefined; recovery_code?: string | undefined },
): Promise<{ proof: DirectoryProof | null; verifiedHash: string }> {
  const verifiedHash = await confirmCurrentPassword(c, dir, userId, presented.password);
  const secret = await dir.twoFactorSecret(userId);
  if (!secret?.enabled) return { proof: null, verifiedHash };
  if (presented.code === undefined && presented.recovery_code === undefined) {
    throw identityError("wrong_two_factor_code", "two-factor is on: send a current code or a recovery code too");
  }
  await enforce(c, "two_factor", userId);
  return { proof: await proofFor(c, userId, secret.sealedSecret, presented), verifiedHash };
}

/**
 * The answer to a change the directory refused as `password_changed`: the password was reset or
 * changed while the Worker verified it, so it is no longer the password, answered as a wrong one
 * (which tells its holder nothing of the reset).
 */
export const passwordChanged = () => identityError("wrong_password", "the current password is wrong");
