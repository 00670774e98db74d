import { storedJson } from "../../../kernel/db/stored-json";
import type { Origin } from "../../../kernel/events/origin";
import { type ExpectedVersion, versionMatches } from "../../../kernel/http/if-match";
import { type SsoSettings, type SsoStored, SsoStoredSchema } from "../sso/schemas";
import { LIVE } from "./sessions";
import type { DirectoryStore } from "./store";
import { fail, ok, type Result, type VersionConflict, versionConflict } from "./types";

/** The password hash of a user created by single sign-on: not a PHC string, so no password verifies against it. */
export const NO_PASSWORD = "!sso";

/**
 * The most spent states (`sso_spent_states`, expired ones swept) one tenant's directory keeps. A
 * sign-in under way is stored nowhere (sso/state.ts); a state is written here only by a callback whose
 * code the provider accepted, so filling it takes that many completed sign-ins at the tenant's own
 * provider within a state's 10 minutes, not anonymous starts. Past it the spent states expiring first
 * are forgotten (never a sign-in refused): a replay of a forgotten one still needs a code the provider
 * has not redeemed yet, and it redeems each once. At ~100 bytes a row it bounds the table near 1 MB.
 */
export const MAX_SPENT_STATES = 10_000;

/** The settings fields whose change `identity.sso.configured` names. */
const FIELDS = [
  "issuer",
  "client_id",
  "token_endpoint_auth_method",
  "allowed_domains",
  "role_mapping",
  "default_role",
  "jit",
  "app_redirect_uris",
] as const;

/**
 * The settings fields that decide who signs in as whom: the provider (issuer,
 * and the client, whose claims a provider may rewrite), which emails it may
 * vouch for, and where the tokens go. Changing one needs an owner.
 */
const TRUST_FIELDS = ["issuer", "client_id", "allowed_domains", "app_redirect_uris"] as const;

/** Whether replacing `before` (null: no provider yet) by `after` changes a field that decides who signs in as whom. */
export function changesTrust(before: SsoSettings | null, after: SsoSettings): boolean {
  return TRUST_FIELDS.some((k) => !before || JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

/**
 * The tenant's single-sign-on state in its directory: the one identity
 * provider (settings plus the sealed client secret), the states its callbacks
 * spent (each sign-in works once), and the identities linked to accounts.
 */
export class SsoDirectory {
  constructor(private readonly store: DirectoryStore) {}

  private get sql() {
    return this.store.sql;
  }

  provider(): SsoStored | null {
    const row = this.sql
      .exec<{ config: string; sealed_secret: string; version: number; updated_at: string }>(
        "select config, sealed_secret, version, updated_at from sso_provider where id = 1",
      )
      .toArray()[0];
    if (!row) return null;
    const config = storedJson(row.config, "sso provider config");
    return SsoStoredSchema.parse({ ...row, config });
  }

  /**
   * Whether the tenant's provider is still the one a sign-in was verified against, by its issuer and
   * client: replaced (either changed) or deleted since, it is not, as a state sealed for it no longer
   * opens (sso/state.ts). A client of null (a challenge from before it was recorded) is none.
   */
  isCurrent(issuer: string, clientId: string | null): boolean {
    const config = this.provider()?.config;
    return config !== undefined && config.issuer === issuer && config.client_id === clientId;
  }

  /**
   * Whether the tenant's provider lets an email of `domain` (lower case) sign in now: `allowed_domains`
   * lists it (the provider's domains are kept lower case).
   */
  allowsDomain(domain: string): boolean {
    return this.provider()?.config.allowed_domains.includes(domain) ?? false;
  }

  /** Replaces the provider (a sealed secret of null keeps the stored one); records what changed. */
  put(
    ctx: Origin,
    config: SsoSettings,
    sealedSecret: string | null,
    expectedVersion: ExpectedVersion | undefined,
  ): Result<SsoStored, "secret_required"> | VersionConflict {
    const before = this.provider();
    if (!versionMatches(expectedVersion, before?.version ?? 0)) return versionConflict(before?.version ?? 0);
    const secret = sealedSecret ?? before?.sealed_secret;
    if (!secret) return fail("secret_required");
    const fields: string[] = FIELDS.filter(
      (k) => !before || JSON.stringify(before.config[k]) !== JSON.stringify(config[k]),
    );
    if (sealedSecret !== null) fields.push("client_secret");
    if (before && fields.length === 0) return ok(before);
    const version = (before?.version ?? 0) + 1;
    this.store.tx(() => {
      this.sql.exec(
        `insert or replace into sso_provider (id, config, sealed_secret, version, updated_at) values (1, ?, ?, ?, ?)`,
        JSON.stringify(config),
        secret,
        version,
        ctx.now,
      );
      this.store.emit(
        ctx,
        "sso",
        { type: "identity.sso.configured", data: { issuer: config.issuer, client_id: config.client_id, fields } },
        { fields },
      );
    });
    return ok({ config, sealed_secret: secret, version, updated_at: ctx.now });
  }

  remove(ctx: Origin): Result<null, "not_found"> {
    const before = this.provider();
    if (!before) return fail("not_found");
    this.store.tx(() => {
      // Sign-ins under way are sealed for this provider (issuer and client: sso/state.ts), so none
      // opens for another one configured later; spent states stay until they expire.
      this.sql.exec("delete from sso_provider");
      this.store.emit(ctx, "sso", { type: "identity.sso.removed", data: { issuer: before.config.issuer } });
    });
    return ok(null);
  }

  /** Whether a callback the provider answered spent this state (by the hash of its `state`) already. */
  spent(stateHash: string): boolean {
    return this.sql.exec("select 1 from sso_spent_states where state_hash = ?", stateHash).toArray().length > 0;
  }

  /**
   * Spends a state until its expiry (after which the sealed state no longer opens anyway): `spent`
   * when it was already (two callbacks raced, or a replay). Expired ones are swept first, then, while
   * {@link MAX_SPENT_STATES} are kept, the ones expiring first. Answers how many unexpired it forgot.
   */
  spend(now: string, stateHash: string, expiresAt: string): Result<{ evicted: number }, "spent"> {
    return this.store.tx(() => {
      this.purge(now);
      if (this.spent(stateHash)) return fail("spent");
      const kept = this.sql.exec<{ n: number }>("select count(*) as n from sso_spent_states").one().n;
      const evicted =
        kept < MAX_SPENT_STATES
          ? 0
          : this.sql
              .exec(
                `delete from sso_spent_states where state_hash in
                   (select state_hash from sso_spent_states order by expires_at limit ?) returning 1`,
                kept - MAX_SPENT_STATES + 1,
              )
              .toArray().length;
      this.sql.exec("insert into sso_spent_states (state_hash, expires_at) values (?, ?)", stateHash, expiresAt);
      return ok({ evicted });
    });
  }

  /**
   * Creates a user for a first sign-in through the provider: no password (the
   * marker below never verifies, so password login fails until a reset sets
   * one), the email verified (the provider said so, at an allowed domain),
   * `roles`, which the caller has checked all exist. Inside the caller's transaction.
   */
  provision(ctx: Origin, user: { id: string; email: string; name: string; roles: string[] }): string[] {
    const roles = user.roles;
    this.store.insertUser(ctx, { ...user, passwordHash: NO_PASSWORD, roles, emailVerified: true });
    this.store.emit(ctx, `user/${user.id}`, {
      type: "identity.user.provisioned",
      data: { user_id: user.id, roles, via: "sso" },
    });
    return roles;
  }

  /** The account a provider identity is linked to, or null. */
  linkedUser(issuer: string, subject: string): string | null {
    return (
      this.sql
        .exec<{ user_id: string }>(
          "select user_id from sso_identities where issuer = ? and subject = ?",
          issuer,
          subject,
        )
        .toArray()[0]?.user_id ?? null
    );
  }

  /** Whether an account is linked to some identity of this provider already. */
  hasIdentity(issuer: string, userId: string): boolean {
    return (
      this.sql.exec("select 1 from sso_identities where issuer = ? and user_id = ?", issuer, userId).toArray().length >
      0
    );
  }

  /** Whether an account is linked to an identity of any provider (one replaced or deleted included). */
  linked(userId: string): boolean {
    return this.sql.exec("select 1 from sso_identities where user_id = ?", userId).toArray().length > 0;
  }

  /** Links a provider identity to an account; call inside the sign-in's transaction. */
  link(issuer: string, subject: string, userId: string, now: string): void {
    this.sql.exec(
      "insert into sso_identities (issuer, subject, user_id, linked_at) values (?, ?, ?, ?)",
      issuer,
      subject,
      userId,
      now,
    );
  }

  /** Records that a new family (a session) was signed in by this provider identity; inside the sign-in's transaction. */
  signedIn(familyId: string, issuer: string, subject: string): void {
    this.sql.exec("update token_families set sso_issuer = ?, sso_subject = ? where id = ?", issuer, subject, familyId);
  }

  /**
   * Unlinks every identity linked to the account (one per issuer; a provider replaced or deleted
   * leaves its links) and ends the live sessions each signed in: a user unlinking a provider
   * account they no longer trust (taken over, say) expects what it opened to close. Each unlink
   * is recorded as `identity.sso.unlinked` with how many sessions it ended, each session as
   * `identity.token.family_revoked`. Sessions from before their origin was recorded (schema.ts)
   * are not known to be the provider's and stay. Returns how many identities were unlinked.
   */
  unlink(ctx: Origin, userId: string, by: "self" | "admin"): number {
    return this.store.tx(() => {
      const identities = this.sql
        .exec<{ issuer: string; subject: string }>(
          "delete from sso_identities where user_id = ? returning issuer, subject",
          userId,
        )
        .toArray()
        .sort((a, b) => (a.issuer < b.issuer ? -1 : a.issuer > b.issuer ? 1 : 0));
      for (const { issuer, subject } of identities) {
        const sessions_ended = this.endSessions(ctx, userId, issuer, subject);
        this.store.emit(
          ctx,
          `user/${userId}`,
          { type: "identity.sso.unlinked", data: { user_id: userId, issuer, by, sessions_ended } },
          { issuer, by, sessions_ended },
        );
      }
      return identities.length;
    });
  }

  /** Revokes the user's live sessions that identity signed in; returns how many. Inside the unlink's transaction. */
  private endSessions(ctx: Origin, userId: string, issuer: string, subject: string): number {
    const families = this.sql
      .exec<{ id: string }>(
        `select f.id from token_families f
          where f.user_id = ? and f.sso_issuer = ? and f.sso_subject = ? and ${LIVE}`,
        userId,
        issuer,
        subject,
        ctx.now,
      )
      .toArray();
    for (const { id } of families) {
      this.sql.exec("update token_families set revoked_at = ? where id = ?", ctx.now, id);
      this.store.emit(
        ctx,
        `user/${userId}`,
        { type: "identity.token.family_revoked", data: { user_id: userId, family_id: id, reason: "sso_unlinked" } },
        { session_id: id, reason: "sso_unlinked" },
      );
    }
    return families.length;
  }

  /** Forgets spent states that expired (their sealed states no longer open); returns how many. */
  purge(now: string): number {
    return this.sql.exec("delete from sso_spent_states where expires_at <= ? returning 1", now).toArray().length;
  }
}
