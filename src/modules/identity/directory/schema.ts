import { addColumnIfMissing, type SchemaStatement } from "../../../kernel/durable/sqlite-schema";
import { OUTBOX_SCHEMA } from "../../../kernel/outbox";

/**
 * The TenantDirectory's SQLite schema, one entry per version. Append a new
 * version to change it; never edit a released one.
 */
export const DIRECTORY_SCHEMA: SchemaStatement[][] = [
  [
    `create table tenant (
       id text primary key,
       slug text not null,
       name text not null,
       plan text not null,
       created_at text not null
     )`,
    `create table settings (key text primary key, value text not null)`,
    `create table users (
       id text primary key,
       email text not null unique,
       name text not null,
       password_hash text not null,
       email_verified integer not null default 0,
       created_at text not null,
       updated_at text not null
     )`,
    `create table roles (
       name text primary key,
       permissions text not null,
       description text not null,
       builtin integer not null default 0
     )`,
    `create table role_bindings (
       user_id text not null references users(id) on delete cascade,
       role text not null references roles(name),
       primary key (user_id, role)
     )`,
    `create table api_keys (
       id text primary key,
       name text not null,
       prefix text not null,
       key_hash text not null unique,
       scopes text not null,
       expires_at text,
       created_at text not null,
       created_by text,
       revoked_at text,
       last_used_at text
     )`,
    `create table token_families (
       id text primary key,
       user_id text not null references users(id) on delete cascade,
       created_at text not null,
       revoked_at text
     )`,
    `create table refresh_tokens (
       token_hash text primary key,
       family_id text not null references token_families(id) on delete cascade,
       expires_at text not null,
       spent_at text
     )`,
    `create index refresh_tokens_family on refresh_tokens (family_id)`,
    `create table one_time_tokens (
       token_hash text primary key,
       kind text not null,
       user_id text not null references users(id) on delete cascade,
       expires_at text not null,
       used_at text
     )`,
    ...OUTBOX_SCHEMA,
  ],
  [
    // Envelope encryption: the tenant's random seed for its data keys. Destroying it
    // (destroyed_at set, seed cleared) makes every ciphertext of the tenant unreadable.
    `create table key_material (
       id integer primary key check (id = 1),
       seed text,
       created_at text not null,
       destroyed_at text
     )`,
  ],
  // Per-stream event versions: each stream (a user, a key, a role) counts its own events from 1.
  [`create table stream_versions (stream text primary key, version integer not null)`],
  // Invitations (membership): a single-use token per pending invitation, by hash.
  [
    `create table invitations (
       id text primary key,
       email text not null,
       roles text not null,
       token_hash text not null unique,
       invited_by text not null,
       created_at text not null,
       expires_at text not null,
       accepted_at text,
       accepted_by text,
       revoked_at text
     )`,
    `create index invitations_pending on invitations (accepted_at, revoked_at, expires_at)`,
  ],
  [
    // Single sign-on (OpenID Connect): the tenant's one identity provider, its client secret
    // sealed with the tenant's envelope key, and the sign-ins under way (state, nonce and
    // PKCE verifier, single use, ~10 minutes).
    `create table sso_provider (
       id integer primary key check (id = 1),
       config text not null,
       sealed_secret text not null,
       version integer not null,
       updated_at text not null
     )`,
    `create table sso_states (
       state_hash text primary key,
       nonce text not null,
       code_verifier text not null,
       app_redirect text,
       expires_at text not null,
       used_at text
     )`,
  ],
  // Sessions (issue 16): what a user sees of each refresh-token family when listing their sessions.
  // user_agent is truncated to 256 characters; ip_hash is the audit log's keyed hash, never the address.
  [
    `alter table token_families add column user_agent text`,
    `alter table token_families add column ip_hash text`,
    `alter table token_families add column last_used_at text`,
  ],
  [
    // Two-factor authentication (TOTP): the secret sealed with the tenant's envelope key
    // (field `identity.totp/<user id>`); enabled_at null while the enrolment is unconfirmed;
    // last_step, the last TOTP time step accepted, so no code is accepted twice.
    `create table two_factor (
       user_id text primary key references users(id) on delete cascade,
       sealed_secret text not null,
       created_at text not null,
       enabled_at text,
       last_step integer
     )`,
    // Single-use recovery codes, as SHA-256 hashes.
    `create table recovery_codes (
       user_id text not null references users(id) on delete cascade,
       code_hash text not null,
       used_at text,
       primary key (user_id, code_hash)
     )`,
  ],
  // Single sign-on: which account each identity of the provider (issuer, `sub`) signs in to.
  // One identity per account and issuer: an account is never reached by two provider identities.
  [
    `create table sso_identities (
       issuer text not null,
       subject text not null,
       user_id text not null references users(id) on delete cascade,
       linked_at text not null,
       primary key (issuer, subject)
     )`,
    `create unique index sso_identities_user on sso_identities (issuer, user_id)`,
  ],
  // Operators change a tenant's plan and suspend it (tenant-row.ts); tenants from before are active.
  [
    `alter table tenant add column status text not null default 'active'`,
    `alter table tenant add column suspended_at text`,
    `alter table tenant add column suspended_reason text`,
    `alter table tenant add column version integer not null default 1`,
  ],
  // Refresh grace (credentials.ts): a spent token names its successor (by hash) and keeps it
  // sealed under a key only the spent token gives (identity/successor.ts), never in plaintext.
  [
    `alter table refresh_tokens add column successor_hash text`,
    `alter table refresh_tokens add column successor_sealed text`,
  ],
  // Module grants reach existing tenants (grants.ts): every grant (role, permission) this
  // directory ever applied to its default roles, so a grant an admin removed is never added
  // again. A directory that already holds a tenant gets the baseline mark: its roles predate
  // the ledger, so its first sync only records what is declared (a missing grant there may be
  // an admin's removal). A new object has no tenant row yet, so it is not marked.
  [
    `create table applied_grants (
       role text not null,
       permission text not null,
       applied_at text not null,
       primary key (role, permission)
     )`,
    `create table grant_baseline (id integer primary key check (id = 1))`,
    `insert into grant_baseline (id) select 1 where exists (select 1 from tenant)`,
  ],
  // Role versions (roles.ts): each role's ETag, bumped by every change, so If-Match can refuse
  // a write made from a stale read. Roles from before start at 1.
  [`alter table roles add column version integer not null default 1`],
  // An explicit SSO link (POST /me/sso/link): the account whose user, signed in with password and
  // second factor, began this sign-in; its callback links the identity to that account only.
  [`alter table sso_states add column link_user_id text references users(id) on delete cascade`],
  // Which provider identity (issuer, `sub`) signed a session in, so unlinking that identity ends the
  // sessions it started (sso.ts). Null for a password login, and for every family from before this
  // step: those are not known to be the provider's, so an unlink leaves them open.
  [`alter table token_families add column sso_issuer text`, `alter table token_families add column sso_subject text`],
  // Every sign-in start swept expired states and, past its bound of 10,000, forgot the ones expiring
  // first: by this index, not a walk of the table (sso_states is dropped by a later step).
  [`create index sso_states_expires_at on sso_states (expires_at)`],
  // Mail dead letters of deleted accounts still to dismiss (mail-dismissals.ts), by recipient digest,
  // never the address: written in the deletion's transaction, removed once D1 dismissed them.
  [`create table mail_dismissals (digest text primary key, requested_at text not null)`],
  [
    // A sign-in through the provider into an account that must present plinth's second factor gets a
    // login challenge (two-factor.ts): it remembers the identity, so the session it completes is that
    // identity's (unlinking ends it) as a session the callback starts at once is.
    `alter table one_time_tokens add column sso_issuer text`,
    `alter table one_time_tokens add column sso_subject text`,
  ],
  // An explicit link begun with a recovery code: its hash, checked at the request and spent only when
  // the callback links, so a refused or abandoned callback does not cost the user one of their codes.
  [`alter table sso_states add column link_recovery_hash text`],
  // Whether an explicit link's request proved a second factor (two-factor was on then): a link begun
  // without one, whose account turned two-factor on before the callback, gets the second step there.
  [`alter table sso_states add column link_second_factor integer not null default 0`],
  [
    // A sign-in under way is sealed into its `state` (sso/state.ts) instead of stored: anonymous
    // starts from many addresses filled sso_states and pushed real users' sign-ins out of it. Only
    // the states a callback spent (the provider accepted its code) are kept, until they expire.
    // Sign-ins begun before this step answer sso_state_invalid at their callback; starting again works.
    `create table sso_spent_states (state_hash text primary key, expires_at text not null) without rowid`,
    `create index sso_spent_states_expires_at on sso_spent_states (expires_at)`,
    `drop table sso_states`,
  ],
  // An explicit link whose callback asked the second step (begun before the account turned two-factor
  // on): its challenge carries the link, so completing it at POST /auth/two-factor links the identity
  // (it used to sign in and link nothing). Challenges from before this step link nothing, as then.
  [`alter table one_time_tokens add column sso_link integer not null default 0`],
  // The client (with sso_issuer, the provider) a sign-in's challenge was verified against: completing it
  // is refused once the tenant's provider is another, as the callback refuses a state sealed for another
  // (two-factor.ts). Challenges from before this step name none and are refused so; their user signs in again.
  [`alter table one_time_tokens add column sso_client_id text`],
  // The domain of the email the provider asserted for a sign-in's challenge: completing it is refused once
  // the provider's allowed_domains no longer has it, as the callback refuses that domain (two-factor.ts).
  // Narrowing only the domains replaces no provider, so sso_client_id alone let such a challenge complete.
  // Challenges from before this step name no domain and are refused as unknown; their user signs in again.
  [`alter table one_time_tokens add column sso_email_domain text`],
  // An email change's token (kind `email_change`) carries the address it confirms and the session
  // that asked, which the change leaves signed in (email-change.ts).
  [`alter table one_time_tokens add column new_email text`, `alter table one_time_tokens add column keep_family text`],
  // A member suspended by an administrator (suspension.ts): blocked from signing in, kept with their
  // data and history, reactivated by clearing suspended_at. Users from before are active.
  [`alter table users add column suspended_at text`, `alter table users add column suspended_reason text`],
  // The holders of a role (role-holders.ts, the kernel's membersWithRole) read from its bindings:
  // the primary key (user_id, role) finds a user's roles, not a role's users, so finding a tenant's
  // admins read every user of the tenant.
  [`create index role_bindings_role on role_bindings (role, user_id)`],
  // tenant.version was added to the suspension step above after that step had shipped (488b1a38):
  // a directory that ran it under 5b1f27d8..32f5f210 never got the column. Those get it here, at 1
  // (as the alter gives every other tenant); the rest already have it.
  [addColumnIfMissing("tenant", "version", "integer not null default 1")],
];

/**
 * Default roles of every tenant; `*.read` and `*` are patterns (see kernel/auth/permissions).
 * Other modules add their own permissions to them with `ModuleDef.grants` (the blog's to `member`):
 * identity names no module.
 */
export const DEFAULT_ROLES: { name: string; permissions: string[]; description: string }[] = [
  { name: "owner", permissions: ["*"], description: "Every permission; cannot be deleted" },
  { name: "admin", permissions: ["*"], description: "Every permission except managing owners" },
  {
    name: "member",
    permissions: [],
    description: "A tenant's members: what each module grants them by default",
  },
  { name: "viewer", permissions: ["*.read"], description: "Reads everything" },
];
