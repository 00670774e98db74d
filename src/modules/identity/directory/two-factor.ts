import { z } from "zod";
import { covers } from "../../../kernel/auth/permissions";
import { timingSafeEqual } from "../../../kernel/crypto";
import type { Origin } from "../../../kernel/events/origin";
import type { Credentials } from "./credentials";
import type { TenantSettings } from "./settings";
import type { DirectoryStore } from "./store";
import { fail, ok, type Result } from "./types";

/** The one-time token kind of a login's two-factor challenge (kept in `one_time_tokens`, purged with them). */
const CHALLENGE = "two_factor_login";

/**
 * A second factor as the directory checks it: the time step a TOTP code
 * matched in the Worker (null: it matched none), or a recovery code's hash.
 */
export const DirectoryProofSchema = z.union([
  z.object({ step: z.number().int().min(0).nullable() }),
  z.object({ recoveryHash: z.string().regex(/^[0-9a-f]{64}$/) }),
]);
export type DirectoryProof = z.infer<typeof DirectoryProofSchema>;

/**
 * The provider identity (issuer, `sub`) whose sign-in a login challenge continues, and the client
 * (`clientId`) its ID token was verified for: with the issuer, the provider the challenge is good for
 * (null for a challenge from before it was recorded, good for none). `emailDomain`, the domain of the
 * email the provider asserted (lower case), which the provider's `allowed_domains` must still list
 * when the challenge completes (null for a challenge from before it was recorded, good for none).
 * `link`, whether completing it also links that identity to the account (an explicit link begun
 * before the account turned two-factor on, whose callback asked the second step its request never proved).
 */
export type SsoOrigin = {
  issuer: string;
  clientId: string | null;
  subject: string;
  emailDomain: string | null;
  link: boolean;
};

/** Where a proof was checked, for the audit log. */
export type ProofStage =
  | "login"
  | "confirm"
  | "disable"
  | "delete_account"
  | "sso_link"
  | "sso_unlink"
  | "email_change";

/** A user's two-factor state as `GET /me/two-factor` shows it. */
export const TwoFactorStatusSchema = z.object({
  enabled: z.boolean(),
  /** An enrolment started and not yet confirmed. */
  pending: z.boolean(),
  enabled_at: z.string().nullable(),
  recovery_codes_remaining: z.number().int().min(0),
});
export type TwoFactorStatus = z.infer<typeof TwoFactorStatusSchema>;

interface Row extends Record<string, SqlStorageValue> {
  sealed_secret: string;
  enabled_at: string | null;
  last_step: number | null;
}

/**
 * Two-factor authentication in a tenant's directory: each user's sealed TOTP
 * secret (pending until confirmed), the last time step accepted (a code is
 * never accepted twice), hashed single-use recovery codes, and login
 * challenges. It never sees a secret in the clear or a code: the Worker
 * opens the secret and tells it which time step a code matched.
 */
export class TwoFactor {
  constructor(
    private readonly store: DirectoryStore,
    private readonly creds: Credentials,
    private readonly settings: TenantSettings,
  ) {}

  private get sql() {
    return this.store.sql;
  }

  private row(userId: string): Row | undefined {
    return this.sql
      .exec<Row>("select sealed_secret, enabled_at, last_step from two_factor where user_id = ?", userId)
      .toArray()[0];
  }

  /** Whether the user has two-factor on (an enrolment confirmed). */
  enabled(userId: string): boolean {
    return (this.row(userId)?.enabled_at ?? null) !== null;
  }

  status(userId: string): TwoFactorStatus {
    const row = this.row(userId);
    const remaining = this.sql
      .exec<{ n: number }>("select count(*) as n from recovery_codes where user_id = ? and used_at is null", userId)
      .one().n;
    const enabledAt = row?.enabled_at ?? null;
    return {
      enabled: enabledAt !== null,
      pending: !!row && enabledAt === null,
      enabled_at: enabledAt,
      recovery_codes_remaining: remaining,
    };
  }

  /** The sealed secret, for the Worker to check a code with, and whether it is on yet. */
  secret(userId: string): { sealedSecret: string; enabled: boolean } | null {
    const row = this.row(userId);
    return row ? { sealedSecret: row.sealed_secret, enabled: row.enabled_at !== null } : null;
  }

  /** Starts (or restarts) an enrolment with a new sealed secret; refused while two-factor is on. */
  begin(ctx: Origin, userId: string, sealedSecret: string): Result<{ email: string }, "not_found" | "enabled"> {
    const user = this.store.user(userId);
    if (!user) return fail("not_found");
    if (this.enabled(userId)) return fail("enabled");
    this.store.tx(() => {
      this.sql.exec(
        `insert or replace into two_factor (user_id, sealed_secret, created_at, enabled_at, last_step)
         values (?, ?, ?, null, null)`,
        userId,
        sealedSecret,
        ctx.now,
      );
      this.store.emit(ctx, `user/${userId}`, {
        type: "identity.two_factor.enrolment_started",
        data: { user_id: userId },
      });
    });
    return ok({ email: user.email });
  }

  /**
   * Checks a proof for a user whose secret exists (`pending` allows an
   * unconfirmed one, for the confirmation): a TOTP step later than the last
   * one accepted, which it records, or an unused recovery code, which it
   * spends. A failure is recorded as `identity.login.two_factor_failed`.
   * Inside the caller's transaction.
   */
  verify(ctx: Origin, userId: string, proof: DirectoryProof, stage: ProofStage): Result<null, "invalid"> {
    const row = this.row(userId);
    const usable = row && (stage === "confirm" ? row.enabled_at === null : row.enabled_at !== null);
    const reason = !usable
      ? "not_enrolled"
      : "step" in proof
        ? this.acceptStep(userId, row, proof.step)
        : this.spendRecovery(ctx, userId, proof.recoveryHash);
    if (reason === null) return ok(null);
    this.failed(ctx, userId, { stage, method: "step" in proof ? "totp" : "recovery_code", reason });
    return fail("invalid");
  }

  private acceptStep(userId: string, row: Row, step: number | null): string | null {
    if (step === null) return "wrong_code";
    // Replay protection: a code (its step or an earlier one) accepted once is never accepted again.
    if (row.last_step !== null && step <= row.last_step) return "replayed";
    this.sql.exec("update two_factor set last_step = ? where user_id = ?", step, userId);
    return null;
  }

  private spendRecovery(ctx: Origin, userId: string, hash: string): string | null {
    const { match, unused } = this.unusedRecovery(userId, hash);
    if (match === null) return "wrong_recovery_code";
    this.sql.exec("update recovery_codes set used_at = ? where user_id = ? and code_hash = ?", ctx.now, userId, match);
    // The count goes in the audit log too: an administrator sees a user's codes running out.
    this.store.emit(
      ctx,
      `user/${userId}`,
      { type: "identity.two_factor.recovery_code_used", data: { user_id: userId, remaining: unused - 1 } },
      { remaining: unused - 1 },
    );
    return null;
  }

  /** The unused recovery code of the user that `hash` is (null: none), and how many are unused. */
  private unusedRecovery(userId: string, hash: string): { match: string | null; unused: number } {
    const unused = this.sql
      .exec<{ code_hash: string }>("select code_hash from recovery_codes where user_id = ? and used_at is null", userId)
      .toArray();
    // Every unused code compared in constant time, none skipped: the time says nothing of which matched.
    let match: string | null = null;
    for (const r of unused) if (timingSafeEqual(r.code_hash, hash)) match = r.code_hash;
    return { match, unused: unused.length };
  }

  /**
   * Whether `hash` is an unused recovery code of a user with two-factor on, without spending it: for a
   * change that completes later (an SSO link, at its callback), which spends it then with `verify`.
   * A failure is recorded as `verify` records it. Inside the caller's transaction.
   */
  recoveryUsable(ctx: Origin, userId: string, hash: string, stage: ProofStage): boolean {
    const reason = !this.enabled(userId)
      ? "not_enrolled"
      : this.unusedRecovery(userId, hash).match === null
        ? "wrong_recovery_code"
        : null;
    if (reason === null) return true;
    this.failed(ctx, userId, { stage, method: "recovery_code", reason });
    return false;
  }

  /** A proof refused, in the audit log with its stage, method and reason (never the code). */
  private failed(
    ctx: Origin,
    userId: string,
    facts: { stage: ProofStage; method: "totp" | "recovery_code"; reason: string },
  ): void {
    this.store.emit(
      ctx,
      `user/${userId}`,
      { type: "identity.login.two_factor_failed", data: { user_id: userId, ...facts } },
      facts,
    );
  }

  /** Confirms a pending enrolment with its first code: two-factor is on, with these recovery codes. */
  confirm(ctx: Origin, userId: string, step: number | null, recoveryHashes: string[]): Result<null, "invalid"> {
    return this.store.tx(() => {
      const checked = this.verify(ctx, userId, { step }, "confirm");
      if (!checked.ok) return checked;
      this.sql.exec("update two_factor set enabled_at = ? where user_id = ?", ctx.now, userId);
      this.sql.exec("delete from recovery_codes where user_id = ?", userId);
      for (const h of recoveryHashes)
        this.sql.exec("insert into recovery_codes (user_id, code_hash) values (?, ?)", userId, h);
      this.store.emit(ctx, `user/${userId}`, { type: "identity.two_factor.enabled", data: { user_id: userId } });
      return ok(null);
    });
  }

  /** Turns two-factor off (the user with a proof, or an admin's reset): the secret and codes are forgotten. */
  disable(ctx: Origin, userId: string, reason: "user" | "admin_reset"): void {
    this.store.tx(() => {
      this.sql.exec("delete from recovery_codes where user_id = ?", userId);
      this.sql.exec("delete from two_factor where user_id = ?", userId);
      this.store.emit(
        ctx,
        `user/${userId}`,
        { type: "identity.two_factor.disabled", data: { user_id: userId, reason } },
        { reason },
      );
    });
  }

  /**
   * Whether the tenant requires two-factor of this user and they have not
   * enrolled: `require_two_factor_for_admins` is on and the user's roles
   * grant any of `adminPermissions` (the declared `admin.*` permissions).
   */
  mustEnrol(userId: string, adminPermissions: readonly string[]): boolean {
    return !this.enabled(userId) && this.required(userId, adminPermissions);
  }

  /**
   * Whether the tenant requires two-factor of this user, enrolled or not:
   * `require_two_factor_for_admins` is on and their roles grant any of `adminPermissions`.
   */
  required(userId: string, adminPermissions: readonly string[]): boolean {
    if (!this.settings.current().require_two_factor_for_admins) return false;
    const grants = this.store.grantsOf(this.store.rolesOf(userId));
    return adminPermissions.some((p) => covers(grants, p));
  }

  /**
   * Stores a login's challenge (its hash), single use, until `expiresAt`; `sso`, the provider identity
   * that signed in when the first step was a single sign-on, so the session it completes is that identity's.
   */
  issueChallenge(
    ctx: Origin,
    userId: string,
    challengeHash: string,
    expiresAt: string,
    sso: SsoOrigin | null = null,
  ): void {
    this.store.tx(() => {
      this.sql.exec(
        `insert into one_time_tokens
           (token_hash, kind, user_id, expires_at, sso_issuer, sso_client_id, sso_subject, sso_email_domain, sso_link)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        challengeHash,
        CHALLENGE,
        userId,
        expiresAt,
        sso?.issuer ?? null,
        sso?.clientId ?? null,
        sso?.subject ?? null,
        sso?.emailDomain ?? null,
        sso?.link ? 1 : 0,
      );
      this.store.emit(ctx, `user/${userId}`, {
        type: "identity.login.two_factor_challenged",
        data: { user_id: userId },
      });
    });
  }

  /**
   * A live challenge's user and their sealed secret, and the provider identity whose sign-in it
   * continues (null after a password), without spending it; null when unknown, used or expired.
   */
  challenge(
    challengeHash: string,
    now: string,
  ): { userId: string; sealedSecret: string; sso: SsoOrigin | null } | null {
    const row = this.sql
      .exec<{
        user_id: string;
        sso_issuer: string | null;
        sso_client_id: string | null;
        sso_subject: string | null;
        sso_email_domain: string | null;
        sso_link: number;
      }>(
        `select user_id, sso_issuer, sso_client_id, sso_subject, sso_email_domain, sso_link from one_time_tokens
          where token_hash = ? and kind = ? and used_at is null and expires_at > ?`,
        challengeHash,
        CHALLENGE,
        now,
      )
      .toArray()[0];
    const secret = row ? this.secret(row.user_id) : null;
    if (!row || !secret?.enabled) return null;
    const sso =
      row.sso_issuer && row.sso_subject
        ? {
            issuer: row.sso_issuer,
            clientId: row.sso_client_id,
            subject: row.sso_subject,
            emailDomain: row.sso_email_domain,
            link: row.sso_link === 1,
          }
        : null;
    return { userId: row.user_id, sealedSecret: secret.sealedSecret, sso };
  }

  /**
   * Voids the user's live challenges (inside the caller's tx): each was bought by the password a
   * reset or change just replaced, and completed after it would start a session the change ended.
   */
  voidChallenges(ctx: Origin, userId: string): void {
    this.sql.exec(
      "update one_time_tokens set used_at = ? where user_id = ? and kind = ? and used_at is null",
      ctx.now,
      userId,
      CHALLENGE,
    );
  }

  /** Spends a live challenge; its user, or invalid. */
  spendChallenge(ctx: Origin, challengeHash: string): Result<string, "invalid"> {
    return this.creds.spendOneTime(ctx, CHALLENGE, challengeHash);
  }
}
