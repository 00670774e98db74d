import { z } from "@hono/zod-openapi";
import { MAX_PERMISSION_LENGTH } from "../../../kernel/auth/permissions";
import type { Origin } from "../../../kernel/events/origin";

/**
 * The tenant directory's values as they cross its RPC boundary, written once
 * as schemas: the directory's code uses the inferred types, its client
 * parses every reply with the schemas.
 */

/**
 * `ctx` for an act whose caller proved to be `userId` with a secret only that user was given (a
 * mailed token, one of their refresh tokens): the request came in anonymous, but the audit log
 * must name the user, or "anonymous reset the password of X" reads like an attack.
 */
export const provenUser = (ctx: Origin, userId: string): Origin => ({ ...ctx, actor: { kind: "user", id: userId } });

/** A list of strings, as stored in a JSON column (scopes, permissions). */
export const Strings = z.array(z.string());

/** A user as the contract shows it. */
export const UserViewSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  roles: z.array(z.string()),
  email_verified: z.boolean(),
  /** `suspended`: an administrator blocked the account (docs/identity.md#suspending-a-member); it signs in nowhere. */
  status: z.enum(["active", "suspended"]),
  suspended_at: z.string().nullable(),
  /** The administrator's reason, as given; null when none was, or the user is active. */
  suspended_reason: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type UserView = z.infer<typeof UserViewSchema>;

/** An API key without its secret. */
export const KeyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  expires_at: z.string().nullable(),
  created_at: z.string(),
  /** The id of the user or API key that created it; `platform` for a tenant's first key and a recovery key. */
  created_by: z.string().nullable(),
  last_used_at: z.string().nullable(),
  /**
   * Those of `scopes` its creator chain no longer holds whole (the user who created it, or a key it
   * was minted from, lost them): the key keeps them, and grants of them only what the chain still
   * holds (a `blog.*` of a creator now a viewer still reads the blog: key-reach.ts).
   */
  withheld_scopes: z.array(z.string()).optional().openapi({
    description:
      "Those of `scopes` that the key's creator (the user who created it, or the key it was minted from, up the chain) no longer holds whole: kept, and granting of them only what the creator chain still holds (a blog.* scope of a creator who is now a viewer still grants blog reads; GET /api/v1/me with the key lists what it may do), all of them again once the creator holds them; present only when there are some",
  }),
});
export type KeyView = z.infer<typeof KeyViewSchema>;

/** One link of a key's creator chain as it holds now (key-reach.ts). */
export const KeyCapSchema = z.object({ grants: z.array(z.string()), owner: z.boolean() });

/** A key as verification answers it: the key, and the caps its creator chain puts on it now, nearest first. */
export const VerifiedKeySchema = KeyViewSchema.extend({ caps: z.array(KeyCapSchema) });
export type VerifiedKey = z.infer<typeof VerifiedKeySchema>;

/** A session (a refresh-token family) as its user sees it; `current` is added by the route that knows the caller. */
export const SessionViewSchema = z.object({
  id: z.string(),
  created_at: z.string(),
  /** The last refresh (or the login), null for families from before sessions were described. */
  last_used_at: z.string().nullable(),
  user_agent: z.string().nullable(),
  /** The audit log's keyed hash of the client's address at the last use; never the address. */
  ip_hash: z.string().nullable(),
});
export type SessionView = z.infer<typeof SessionViewSchema>;

/** Permissions one role holds at most: every reply carrying a role refuses more. */
export const MAX_ROLE_PERMISSIONS = 500;

/**
 * A role's name: what every route, contract and SSO mapping that names a role checks, from this
 * one pattern, so a route never admits a name its object refuses (a 500 instead of a 400).
 */
export const ROLE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;

/** Roles one invitation may give at most; its route and the directory's contract share it. */
export const MAX_INVITATION_ROLES = 20;

/** A role's description, in characters at most: its routes and the directory's contract share it. */
export const MAX_ROLE_DESCRIPTION = 500;

/** A role as a write gives it: what creating or replacing it sets. */
export const RoleInputSchema = z.object({
  name: z.string().regex(ROLE_NAME_PATTERN),
  permissions: z.array(z.string().min(1).max(MAX_PERMISSION_LENGTH)).max(MAX_ROLE_PERMISSIONS),
  description: z.string().max(MAX_ROLE_DESCRIPTION),
});
export type RoleInput = z.infer<typeof RoleInputSchema>;

/**
 * A role as the contract shows it. `version` is its ETag: every change bumps it (an admin's,
 * the grants job's), so a read-modify-write with If-Match cannot undo one made in between.
 */
export const RoleViewSchema = RoleInputSchema.extend({ version: z.number().int().min(1) });
export type RoleView = z.infer<typeof RoleViewSchema>;

/** What authentication needs to know about a user, cached briefly per isolate. */
export const UserPrincipalSchema = z.object({
  id: z.string(),
  roles: z.array(z.string()),
  /** Union of the roles' permission patterns. */
  grants: z.array(z.string()),
  /** Live refresh-token families; an access token names its family in `sid`. */
  families: z.array(z.string()),
});
export type UserPrincipal = z.infer<typeof UserPrincipalSchema>;

/** Why the authority policy refused (see ../policy.ts). */
export const RefusalSchema = z.discriminatedUnion("rule", [
  /** The caller does not hold these permissions (patterns) that the action gives or takes away. */
  z.object({ rule: z.literal("not_held"), permissions: z.array(z.string()) }),
  /** Only an owner grants or revokes `owner`, or removes a user who holds it. */
  z.object({ rule: z.literal("owner_only") }),
  /** The tenant's last owner cannot lose the role or be deleted. */
  z.object({ rule: z.literal("last_owner") }),
  /** The owner role always holds every permission: it is never rewritten or deleted. */
  z.object({ rule: z.literal("owner_fixed") }),
  /** A key cannot create a key that outlives it. */
  z.object({ rule: z.literal("outlives_creator"), limit: z.string() }),
  /**
   * An administrator's action on the caller's own account: the `/me` route for the same change asks
   * proof (the password, with two-factor on a code) that an access token alone does not give.
   */
  z.object({
    rule: z.literal("own_account"),
    action: z.enum(["user.delete", "user.sso.unlink", "two_factor.reset", "user.password_reset"]),
  }),
  /** Nobody suspends their own account: it would lock them out with no way back but another administrator. */
  z.object({ rule: z.literal("own_suspension") }),
]);

/** Expected failures cross the RPC boundary as values. */
export type Result<T, E extends string = string> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const fail = <E extends string>(error: E): { ok: false; error: E } => ({ ok: false, error });

/** A conditional write refused: `If-Match` named another version than `current_version` (0: none exists). */
export const VersionConflictSchema = z.object({
  ok: z.literal(false),
  error: z.literal("version_conflict"),
  current_version: z.number().int().min(0),
});
export type VersionConflict = z.infer<typeof VersionConflictSchema>;

export const versionConflict = (current: number): VersionConflict => ({
  ok: false,
  error: "version_conflict",
  current_version: current,
});

/** An action the authority policy refused, with the rule that refused it. */
export type Denied = { ok: false; error: "denied"; refusal: z.infer<typeof RefusalSchema> };

export const denied = (refusal: Denied["refusal"]): Denied => ({ ok: false, error: "denied", refusal });

/** The schema of a {@link Result}: `value` on success, one of `errors` otherwise. */
export function resultOf<T extends z.ZodType, const E extends readonly [string, ...string[]]>(value: T, errors: E) {
  return z.union([z.object({ ok: z.literal(true), value }), z.object({ ok: z.literal(false), error: z.enum(errors) })]);
}

export const DeniedSchema = z.object({ ok: z.literal(false), error: z.literal("denied"), refusal: RefusalSchema });

/** `value`, or the authority policy's refusal. */
export function deniableOf<T extends z.ZodType>(value: T) {
  return z.union([z.object({ ok: z.literal(true), value }), DeniedSchema]);
}

/** {@link resultOf}, where the authority policy may also refuse. */
export function deniableResultOf<T extends z.ZodType, const E extends readonly [string, ...string[]]>(
  value: T,
  errors: E,
) {
  return z.union([resultOf(value, errors), DeniedSchema]);
}
