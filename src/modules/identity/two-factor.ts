import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { Secret, TOTP } from "otpauth";
import type { Clock } from "../../kernel/clock";
import { sha256Hex } from "../../kernel/crypto";
import { tenantEnvelopeOfRequest } from "../../kernel/crypto/tenant-envelope";
import type { AppEnv } from "../../kernel/env";
import type { DirectoryProof } from "./directory/two-factor";

/**
 * Two-factor authentication with TOTP (RFC 6238), the Worker's side: the
 * authenticator parameters, sealing the shared secret with the tenant's
 * envelope key, checking a code at the injected clock's time, and recovery
 * codes. The directory stores what this produces (sealed secret, hashes,
 * the last accepted time step); it never sees a secret or a code.
 */

/** The permissions whose holders a tenant's `require_two_factor_for_admins` covers: the declared `admin.*`. */
export const adminPermissions = (c: Context<AppEnv>): string[] =>
  c.get("platform").permissions.filter((p) => p.startsWith("admin."));

/** What every authenticator app assumes by default: SHA-1, 6 digits, 30 s steps. */
export const TOTP_PARAMS = { algorithm: "SHA1", digits: 6, period: 30 } as const;

/** A code is accepted one step either side of now (clock drift, a code typed as it rolls over). */
const WINDOW = 1;

/** How many recovery codes an enrolment gives. */
export const RECOVERY_CODES = 10;

/** How long a login's two-factor challenge lives. */
export const CHALLENGE_TTL_S = 300;

/** The envelope field a user's TOTP secret is sealed under: bound to the user, so it opens for no one else. */
export const totpField = (userId: string) => `identity.totp/${userId}`;

/** A TOTP code as typed: six digits (spaces tolerated, as apps group them). */
export const TotpCodeSchema = z
  .string()
  .max(16)
  .transform((s) => s.replace(/\s/g, ""))
  .pipe(z.string().regex(/^\d{6}$/, "must be the 6-digit code of your authenticator app"))
  .openapi({ type: "string", example: "123456" });

/** A recovery code as typed: 16 base32 characters, dashes, spaces and case ignored. */
export const RecoveryCodeSchema = z
  .string()
  .max(64)
  .transform((s) => s.replace(/[\s-]/g, "").toLowerCase())
  .pipe(z.string().regex(/^[a-z2-7]{16}$/, "must be one of your recovery codes"))
  .openapi({ type: "string", example: "abcd-efgh-ijkl-mnop" });

/** A second factor: exactly one of a TOTP code and a recovery code. */
export const ProofSchema = z
  .object({ code: TotpCodeSchema.optional(), recovery_code: RecoveryCodeSchema.optional() })
  .refine((p) => (p.code === undefined) !== (p.recovery_code === undefined), {
    message: "give exactly one of code and recovery_code",
    path: ["code"],
  });
export type Proof = z.infer<typeof ProofSchema>;

/**
 * The TOTP generator of a secret, configured as plinth configures it.
 * Every call site passes the time explicitly (the library's default is the
 * wall clock, which plinth never reads outside kernel/clock).
 */
export function totpOf(secretBase32: string, issuer = "plinth", label = "user"): TOTP {
  return new TOTP({ ...TOTP_PARAMS, issuer, label, secret: Secret.fromBase32(secretBase32) });
}

/** A new 160-bit secret (RFC 4226's recommended length), base32 as apps take it. */
export const newTotpSecret = (): string => new Secret({ size: 20 }).base32;

/** The `otpauth://totp/...` URI an app scans: issuer the tenant's name, label the user's email. */
export const otpauthUri = (secretBase32: string, issuer: string, label: string): string =>
  totpOf(secretBase32, issuer, label).toString();

/**
 * The time step a code is valid for at `clock`'s time, within one step
 * either side, or null. The caller accepts it only if it is later than the
 * last step accepted (replay protection, decided in the directory).
 */
export function matchingStep(secretBase32: string, code: string, clock: Clock): number | null {
  const timestamp = clock.now().getTime();
  const delta = totpOf(secretBase32).validate({ token: code, timestamp, window: WINDOW });
  if (delta === null) return null;
  return TOTP.counter({ period: TOTP_PARAMS.period, timestamp }) + delta;
}

/** Base32 without padding (RFC 4648), lower-case: what a recovery code is made of. */
const B32 = "abcdefghijklmnopqrstuvwxyz234567";

/** A recovery code: 80 random bits as 16 base32 characters, shown as `xxxx-xxxx-xxxx-xxxx`. */
function newRecoveryCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const chars = Array.from(bytes, (b) => B32[b & 31]).join("");
  return chars.match(/.{4}/g)?.join("-") ?? chars;
}

/** The stored form of a recovery code: SHA-256 of its normalised text (the code has 80 bits of entropy). */
export const recoveryHash = (code: string): Promise<string> =>
  sha256Hex(`plinth-recovery:${code.replace(/[\s-]/g, "").toLowerCase()}`);

/** A fresh set of recovery codes, shown once, and their hashes, which the directory keeps. */
export async function newRecoveryCodes(): Promise<{ codes: string[]; hashes: string[] }> {
  const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
  return { codes, hashes: await Promise.all(codes.map(recoveryHash)) };
}

const envelopeOf = (c: Context<AppEnv>) =>
  tenantEnvelopeOfRequest(
    c,
    "two-factor authentication needs ENCRYPTION_KEYS (the master keys that seal TOTP secrets)",
  );

/** Seals a user's TOTP secret with the tenant's envelope key. */
export const sealTotpSecret = (c: Context<AppEnv>, userId: string, secret: string) =>
  envelopeOf(c).encrypt(totpField(userId), secret);

/** Opens a user's sealed TOTP secret. */
export const openTotpSecret = (c: Context<AppEnv>, userId: string, sealed: string) =>
  envelopeOf(c).decryptText(totpField(userId), sealed);

/**
 * What the directory checks for a proof: the time step a TOTP code matched
 * (null when it matched none: the directory records the failure), or the
 * hash of a recovery code.
 */
export async function proofFor(
  c: Context<AppEnv>,
  userId: string,
  sealed: string,
  proof: Proof,
): Promise<DirectoryProof> {
  if (proof.recovery_code !== undefined) return { recoveryHash: await recoveryHash(proof.recovery_code) };
  const secret = await openTotpSecret(c, userId, sealed);
  return { step: matchingStep(secret, proof.code ?? "", c.get("clock")) };
}
