import { z } from "@hono/zod-openapi";
import { storedJson } from "../../../kernel/db/stored-json";
import type { Origin } from "../../../kernel/events/origin";
import { bounded } from "../../../kernel/modules/personal-data";
import type { Invitations } from "./invitations";
import type { DirectoryStore } from "./store";
import { type TwoFactor, TwoFactorStatusSchema } from "./two-factor";
import { Strings } from "./types";

/** Items of each list of a person's identity export at most: sessions, keys, invitations sent. */
export const IDENTITY_EXPORT_MAX = 1000;

const list = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    truncated: z.boolean().openapi({ description: `true when there were more than ${IDENTITY_EXPORT_MAX}` }),
  });

/**
 * What the tenant's directory holds about one user, as their export shows it. Declared field by
 * field: the kernel parses the part with this schema, so a hash, a sealed secret or a recovery
 * code read with a row never leaves, and none is declared.
 */
export const IdentityPersonalDataSchema = z
  .object({
    account: z.object({
      id: z.string(),
      email: z.string(),
      name: z.string(),
      email_verified: z.boolean(),
      roles: z.array(z.string()),
      status: z.enum(["active", "suspended"]),
      suspended_at: z.string().nullable(),
      suspended_reason: z.string().nullable(),
      created_at: z.string(),
      updated_at: z.string(),
    }),
    /** As `GET /me/two-factor` shows it, with when each spent recovery code was used (oldest first). */
    two_factor: TwoFactorStatusSchema.extend({ recovery_codes_used_at: z.array(z.string()) }),
    /** Every refresh-token family, live or revoked, until the purge forgets a revoked one. */
    sessions: list(
      z.object({
        id: z.string(),
        created_at: z.string(),
        last_used_at: z.string().nullable(),
        user_agent: z.string().nullable(),
        ip_hash: z.string().nullable(),
        revoked_at: z.string().nullable(),
      }),
    ),
    sso_links: z.array(z.object({ issuer: z.string(), subject: z.string(), linked_at: z.string() })),
    /** The API keys they created themselves (not those minted from their keys), revoked ones until purged. */
    api_keys: list(
      z.object({
        id: z.string(),
        name: z.string(),
        prefix: z.string(),
        scopes: z.array(z.string()),
        created_at: z.string(),
        expires_at: z.string().nullable(),
        last_used_at: z.string().nullable(),
        revoked: z.boolean(),
        revoked_at: z.string().nullable(),
      }),
    ),
    /**
     * The single-use tokens held for them (mailed: verification, password reset, email change;
     * a login's two-factor challenge), until the hourly purge forgets a used or expired one.
     * Never the token or its hash.
     */
    single_use_tokens: list(
      z.object({
        kind: z.string().openapi({
          description: "verify_email, password_reset, email_change or two_factor_login",
        }),
        expires_at: z.string(),
        used_at: z.string().nullable(),
        new_email: z.string().nullable().openapi({ description: "the address an email change confirms" }),
      }),
    ),
    invitations_sent: list(
      z.object({
        id: z.string(),
        email: z.string(),
        roles: z.array(z.string()),
        status: z.enum(["pending", "accepted", "revoked", "expired"]),
        created_at: z.string(),
        expires_at: z.string(),
      }),
    ),
  })
  .openapi("IdentityPersonalData");
export type IdentityPersonalData = z.infer<typeof IdentityPersonalDataSchema>;

interface FamilyRow extends Record<string, SqlStorageValue> {
  id: string;
  created_at: string;
  last_used_at: string | null;
  user_agent: string | null;
  ip_hash: string | null;
  revoked_at: string | null;
}

interface TokenRow extends Record<string, SqlStorageValue> {
  kind: string;
  expires_at: string;
  used_at: string | null;
  new_email: string | null;
}

interface KeyRow extends Record<string, SqlStorageValue> {
  id: string;
  name: string;
  prefix: string;
  scopes: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

/**
 * A user's records in the directory, read for their export (GDPR art. 15/20). Every query
 * names its columns: no `select *` here, so no hash or sealed value is read in the first place.
 */
export class PersonalRecords {
  constructor(
    private readonly store: DirectoryStore,
    private readonly invitations: Invitations,
    private readonly twoFactor: TwoFactor,
  ) {}

  private get sql() {
    return this.store.sql;
  }

  /**
   * Records that `ctx.actor` took a copy of `userId`'s data (an administrator's export), on the
   * user's stream: the audit log names the caller as actor and the user as target.
   */
  recordExport(ctx: Origin, userId: string): void {
    this.store.tx(() => {
      this.store.emit(ctx, `user/${userId}`, { type: "identity.user.exported", data: { user_id: userId } });
    });
  }

  /** The user's records at `now`; null when there is no such user. */
  of(userId: string, now: string): IdentityPersonalData | null {
    const account = this.store.user(userId);
    if (!account) return null;
    const max = IDENTITY_EXPORT_MAX;
    // When each spent recovery code was used; never a code's hash (not read).
    const codesUsed = this.sql
      .exec<{ used_at: string }>(
        "select used_at from recovery_codes where user_id = ? and used_at is not null order by used_at",
        userId,
      )
      .toArray()
      .map((r) => r.used_at);
    const sessions = this.sql
      .exec<FamilyRow>(
        `select id, created_at, last_used_at, user_agent, ip_hash, revoked_at from token_families
          where user_id = ? order by created_at desc, id desc limit ?`,
        userId,
        max + 1,
      )
      .toArray();
    // No token_hash: the column is never read here.
    const tokens = this.sql
      .exec<TokenRow>(
        `select kind, expires_at, used_at, new_email from one_time_tokens
          where user_id = ? order by expires_at desc limit ?`,
        userId,
        max + 1,
      )
      .toArray();
    const links = this.sql
      .exec<{ issuer: string; subject: string; linked_at: string }>(
        "select issuer, subject, linked_at from sso_identities where user_id = ? order by linked_at",
        userId,
      )
      .toArray();
    const keys = this.sql
      .exec<KeyRow>(
        `select id, name, prefix, scopes, created_at, expires_at, last_used_at, revoked_at from api_keys
          where created_by = ? order by created_at desc, id desc limit ?`,
        userId,
        max + 1,
      )
      .toArray()
      .map((k) => ({
        id: k.id,
        name: k.name,
        prefix: k.prefix,
        scopes: Strings.parse(storedJson(k.scopes, `key ${k.id} scopes`)),
        created_at: k.created_at,
        expires_at: k.expires_at,
        last_used_at: k.last_used_at,
        revoked: k.revoked_at !== null,
        revoked_at: k.revoked_at,
      }));
    return {
      account,
      two_factor: { ...this.twoFactor.status(userId), recovery_codes_used_at: codesUsed },
      sessions: bounded(sessions, max),
      sso_links: links,
      api_keys: bounded(keys, max),
      single_use_tokens: bounded(tokens, max),
      invitations_sent: bounded(this.invitations.sentBy(userId, now, max + 1), max),
    };
  }
}
