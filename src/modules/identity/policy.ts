import type { z } from "zod";
import { covers } from "../../kernel/auth/permissions";
import type { Principal } from "../../kernel/auth/types";
import type { RefusalSchema } from "./directory/types";
import { capHolds, type KeyCap } from "./key-reach";

/**
 * The tenant's authority rules, as pure functions: who may give, change or
 * take away authority. One sentence: a principal can only give, change or
 * take away authority that it holds itself, and only an owner touches
 * `owner`. The TenantDirectory (the single writer, so the check and the write
 * are atomic) and the routes (to refuse before any work) both ask here; no
 * other file writes an authority rule.
 */

/** The owner role: every permission, never rewritten or deleted, never left without a holder. */
export const OWNER = "owner";

/** Who asks, as the directory knows them now (not as an isolate cached them). */
export type Caller =
  | { kind: "platform" }
  /** Anyone else (the system, an anonymous request, a principal that no longer exists): holds nothing. */
  | { kind: "nobody" }
  | { kind: "user"; id: string; roles: readonly string[]; grants: readonly string[] }
  /**
   * A key: its scopes, and what each link of its creator chain holds now (key-reach.ts). It
   * holds a permission only where its scopes and every cap do.
   */
  | { kind: "api_key"; id: string; scopes: readonly string[]; caps: readonly KeyCap[]; expiresAt: string | null };

/**
 * The caller as a request's principal describes it (roles and grants as the
 * isolate resolved them, at most 10 s old): for refusing early, before any
 * work; the directory decides again with its current state. A key's grants are
 * its scopes already capped by its creator chain, so they stand for its scopes
 * here; whether its creator is still an owner only the directory knows.
 */
export function callerOf(principal: Principal): Caller {
  switch (principal.kind) {
    case "platform":
      return { kind: "platform" };
    case "user":
      return { kind: "user", id: principal.id, roles: principal.roles, grants: principal.grants };
    case "api_key":
      return { kind: "api_key", id: principal.id, scopes: principal.grants, caps: [], expiresAt: principal.expiresAt };
  }
}

/** A role as the policy sees it. */
export interface RoleFacts {
  name: string;
  permissions: readonly string[];
}

/** A user affected by an action: their roles and the permission patterns those roles grant. */
export interface UserFacts {
  id: string;
  roles: readonly string[];
  grants: readonly string[];
}

/** Every action that gives, changes or takes away authority. */
export type AuthorityAction =
  | { type: "key.create"; scopes: readonly string[]; expiresAt: string | null }
  | { type: "key.revoke"; key: { id: string; scopes: readonly string[] } }
  | { type: "role.create"; permissions: readonly string[] }
  | { type: "role.rewrite"; role: RoleFacts; permissions: readonly string[] }
  | { type: "role.delete"; role: RoleFacts }
  /** Changing where account mail links lead (settings `mail_links`): they carry every user's reset token, an owner's too. */
  | { type: "mail_links.change" }
  /** Changing whose word the SSO provider's sign-ins take (issuer, client, domains, app redirects): they reach owners too. */
  | { type: "sso_trust.change" }
  | { type: "role.grant"; role: RoleFacts; user: UserFacts }
  | { type: "role.revoke"; role: RoleFacts; user: UserFacts; owners: readonly string[] }
  /**
   * Deleting a user. `proven`: the caller proved in this request that the account is theirs (`DELETE
   * /me`: the password, and a code with two-factor on); an administrator's route passes false, and
   * is refused on the caller's own account.
   */
  | { type: "user.delete"; user: UserFacts; owners: readonly string[]; proven: boolean }
  | { type: "invitation.create"; roles: readonly RoleFacts[] }
  /** Changing another user's profile (`PATCH /users/{id}`): as signing them out; anyone may change their own. */
  | { type: "user.update"; user: UserFacts }
  /** Signing a user out (revoking their sessions): anyone may sign themself out. */
  | { type: "user.sessions.revoke"; user: UserFacts }
  /** An administrator unlinking a user's provider identity: it takes a way in from them; never the caller's own. */
  | { type: "user.sso.unlink"; user: UserFacts }
  /** Turning off another user's two-factor (an admin's reset): it weakens their sign-in; never the caller's own. */
  | { type: "two_factor.reset"; user: UserFacts }
  /**
   * An administrator mailing a user a password reset (and, asked, signing them out): never the
   * caller's own account. `creatorsKey`: the calling key was created by the user (directly or
   * through keys of theirs), so it acts as the user does and is refused as their own token is.
   */
  | { type: "user.password_reset"; user: UserFacts; creatorsKey: boolean }
  /**
   * Suspending a user (they sign in nowhere until reactivated): as deleting them, never the caller's
   * own account. `owners`: the owners not suspended, of whom one must stay.
   */
  | { type: "user.suspend"; user: UserFacts; owners: readonly string[] }
  /** Reactivating a suspended user gives back what suspending took: as suspending, less the owner count. */
  | { type: "user.reactivate"; user: UserFacts }
  /** An administrator's copy of everything the tenant holds about a user (`GET /users/{id}/export`). */
  | { type: "user.export"; user: UserFacts };

/** The actions whose own-account form has a `/me` route that asks proof, and that route. */
const OWN_ACCOUNT_ROUTES = {
  "user.delete": "delete your own account with DELETE /api/v1/me, which asks your password (and a code)",
  "user.sso.unlink": "unlink your own identity with DELETE /api/v1/me/sso, which asks your password (and a code)",
  "two_factor.reset": "turn your own two-factor off with DELETE /api/v1/me/two-factor, which asks a code",
  "user.password_reset":
    "change your own password with POST /api/v1/auth/change-password, which asks your current one, or ask a reset link with POST /api/v1/auth/password-reset; a key you (or a key of yours) created acts as you, and cannot ask it for you either",
} as const;

/** Why an action was refused: the rule, and what it names (schema in directory/types.ts). */
export type Refusal = z.infer<typeof RefusalSchema>;

/**
 * Whether the caller is an owner: a user holding `owner`, a key holding `*`
 * (the tenant's admin key) whose creator chain is owners all the way up, or the platform.
 */
export function isOwner(caller: Caller): boolean {
  if (caller.kind === "platform") return true;
  if (caller.kind === "user") return caller.roles.includes(OWNER);
  return caller.kind === "api_key" && caller.scopes.includes("*") && caller.caps.every((cap) => cap.owner);
}

/** The permission patterns the caller may delegate. */
function patternsOf(caller: Caller): readonly string[] {
  switch (caller.kind) {
    case "platform":
      return ["*"];
    case "nobody":
      return [];
    case "user":
      return caller.grants;
    case "api_key":
      return caller.scopes;
  }
}

/**
 * Whether the caller holds a permission or pattern for delegation. `*` is
 * held only by owners: the `admin` role grants every permission, but an admin
 * cannot hand out, change or take away `*` itself.
 */
export function holds(caller: Caller, pattern: string): boolean {
  if (pattern === "*") return isOwner(caller);
  // A key holds no more than its creator chain holds now, whatever its scopes say.
  if (caller.kind === "api_key" && !caller.caps.every((cap) => capHolds(cap, pattern))) return false;
  return covers(patternsOf(caller), pattern);
}

/** The patterns among `patterns` that the caller does not hold, sorted and unique. */
export function notHeld(caller: Caller, patterns: readonly string[]): string[] {
  return [...new Set(patterns.filter((p) => !holds(caller, p)))].sort();
}

const needs = (caller: Caller, patterns: readonly string[]): Refusal | null => {
  const missing = notHeld(caller, patterns);
  return missing.length > 0 ? { rule: "not_held", permissions: missing } : null;
};

const ownerOnly = (caller: Caller, touchesOwner: boolean): Refusal | null =>
  touchesOwner && !isOwner(caller) ? { rule: "owner_only" } : null;

/** Whether the caller is the user `userId` (signed in as them). */
const isSelf = (caller: Caller, userId: string): boolean => caller.kind === "user" && caller.id === userId;

/**
 * An administrator's action on the caller's own account. The rest of the policy lets a user act on
 * themself (they hold their own permissions; an owner acts on anyone), but the `/me` route for the
 * same change asks proof an access token alone does not give: through the administrator's route, a
 * stolen token would delete the account, unlink it or turn its two-factor off. Decided here, so an
 * administrator's route added later gets the refusal without remembering it.
 */
const ownAccount = (caller: Caller, userId: string, action: keyof typeof OWN_ACCOUNT_ROUTES): Refusal | null =>
  isSelf(caller, userId) ? { rule: "own_account", action } : null;

/** Whether removing `userId`'s owner binding would leave the tenant without an owner. */
const lastOwner = (owners: readonly string[], userId: string): Refusal | null =>
  owners.length <= 1 && owners.includes(userId) ? { rule: "last_owner" } : null;

/** The expiry of a key created by `caller` when it asks for `requested`: a key never outlives the key creating it. */
export function boundedExpiry(caller: Caller, requested: string | null): string | null {
  if (caller.kind !== "api_key" || caller.expiresAt === null) return requested;
  return requested ?? caller.expiresAt;
}

/**
 * Decides one action: null when allowed, else the first rule that refuses it.
 * Owner rules come before "not held", so a refusal names the rule a client
 * can act on.
 */
export function authorize(caller: Caller, action: AuthorityAction): Refusal | null {
  switch (action.type) {
    case "key.create": {
      const refusal = needs(caller, action.scopes);
      if (refusal) return refusal;
      if (caller.kind === "api_key" && caller.expiresAt !== null) {
        if (action.expiresAt === null || action.expiresAt > caller.expiresAt)
          return { rule: "outlives_creator", limit: caller.expiresAt };
      }
      return null;
    }
    case "key.revoke":
      return needs(caller, action.key.scopes);
    case "role.create":
      return needs(caller, action.permissions);
    case "role.rewrite":
      if (action.role.name === OWNER) return { rule: "owner_fixed" };
      return needs(caller, [...action.role.permissions, ...action.permissions]);
    case "role.delete":
      if (action.role.name === OWNER) return { rule: "owner_fixed" };
      return needs(caller, action.role.permissions);
    case "role.grant":
      return ownerOnly(caller, action.role.name === OWNER) ?? needs(caller, action.role.permissions);
    case "mail_links.change":
      // A reset link to a host of the caller's would hand them an owner's reset token the moment
      // the owner opens a genuine mail: an admin, who may not touch owners, must not set one.
      return ownerOnly(caller, true);
    case "sso_trust.change":
      // A provider of the caller's asserts any email, an owner's too, and the sign-in links by email: an
      // admin choosing it would sign in as an owner. So would an app redirect of theirs, receiving the
      // tokens of an owner who followed a sign-in link they sent.
      return ownerOnly(caller, true);
    case "role.revoke": {
      const owner = action.role.name === OWNER;
      return (
        ownerOnly(caller, owner) ??
        (owner ? lastOwner(action.owners, action.user.id) : null) ??
        needs(caller, action.role.permissions)
      );
    }
    case "invitation.create":
      // Inviting into a role hands out its permissions: the same rules as granting each of them.
      return (
        ownerOnly(
          caller,
          action.roles.some((r) => r.name === OWNER),
        ) ??
        needs(
          caller,
          action.roles.flatMap((r) => r.permissions),
        )
      );
    case "user.update":
    // Renaming: a user's name is what others and mail show of them, so the rule for acting on them
    // (a caller who may not sign a user out must not present them under another name); anyone renames
    // themself. Signing out: like deleting the user, less the last-owner rule (an owner signed out
    // can sign in again); anyone signs themself out, as logging out would.
    case "user.sessions.revoke":
      if (isSelf(caller, action.user.id)) return null;
      return ownerOnly(caller, action.user.roles.includes(OWNER)) ?? needs(caller, action.user.grants);
    case "user.sso.unlink":
      // As signing out (one way in fewer, the owner can sign in again), but not the caller's own.
      return (
        ownAccount(caller, action.user.id, action.type) ??
        ownerOnly(caller, action.user.roles.includes(OWNER)) ??
        needs(caller, action.user.grants)
      );
    case "user.delete": {
      const owner = action.user.roles.includes(OWNER);
      return (
        (action.proven ? null : ownAccount(caller, action.user.id, action.type)) ??
        ownerOnly(caller, owner) ??
        (owner ? lastOwner(action.owners, action.user.id) : null) ??
        // Giving up one's own account takes nothing from anyone else: an admin, whose role grants
        // `*` that only an owner "holds", was refused their own deletion by this rule.
        (isSelf(caller, action.user.id) ? null : needs(caller, action.user.grants))
      );
    }
    case "two_factor.reset":
      return (
        ownAccount(caller, action.user.id, action.type) ??
        ownerOnly(caller, action.user.roles.includes(OWNER)) ??
        needs(caller, action.user.grants)
      );
    case "user.password_reset":
      // As resetting their two-factor: it can end every sign-in of theirs. A key the user created
      // holds what they hold and stands for them: through it, a leaked integration key would sign
      // its creator out of every session without the proof the /me routes ask.
      return (
        ownAccount(caller, action.user.id, action.type) ??
        (action.creatorsKey ? { rule: "own_account", action: action.type } : null) ??
        ownerOnly(caller, action.user.roles.includes(OWNER)) ??
        needs(caller, action.user.grants)
      );
    case "user.suspend": {
      // It takes every way in from the user, as deleting them does, but keeps their data: the same
      // owner rules, and the tenant keeps one owner who can sign in.
      const owner = action.user.roles.includes(OWNER);
      return (
        (isSelf(caller, action.user.id) ? { rule: "own_suspension" } : null) ??
        ownerOnly(caller, owner) ??
        (owner ? lastOwner(action.owners, action.user.id) : null) ??
        needs(caller, action.user.grants)
      );
    }
    case "user.reactivate":
      // Giving an owner's sign-in back is an owner's decision, as taking it away was.
      return ownerOnly(caller, action.user.roles.includes(OWNER)) ?? needs(caller, action.user.grants);
    case "user.export":
      // A read: it gives and takes no authority, so not "not held" (an officer answering access
      // requests exports administrators too). But it is all of a person at once (sessions and their
      // address hashes, keys, drafts, deleted posts, every act), and an owner's is an owner's to
      // take, as every other administrator's act on an owner is. Anyone exports themself.
      return ownerOnly(caller, action.user.roles.includes(OWNER));
  }
}

/**
 * Whether the caller may act on user `userId` where acting on oneself needs
 * nothing and acting on another user needs `permission` (reading a user,
 * renaming one).
 */
export function maySelfOr(caller: Caller, userId: string, permission: string): boolean {
  return (caller.kind === "user" && caller.id === userId) || (caller.kind !== "platform" && holds(caller, permission));
}

/** A client-facing sentence for a refusal. */
export function describeRefusal(refusal: Refusal): string {
  switch (refusal.rule) {
    case "not_held":
      return `you do not hold ${refusal.permissions.join(", ")}`;
    case "owner_only":
      return "only an owner grants or revokes the owner role, removes, renames, suspends, reactivates, signs out or exports a user who holds it or resets their two-factor or password, changes the mail links, or changes the SSO provider's issuer, client, allowed domains or app redirects";
    case "last_owner":
      return "the tenant's last owner cannot be removed";
    case "owner_fixed":
      return "the owner role always holds every permission; it cannot be changed or deleted";
    case "outlives_creator":
      return `a key cannot outlive the key that creates it (expires_at after ${refusal.limit})`;
    case "own_account":
      return OWN_ACCOUNT_ROUTES[refusal.action];
    case "own_suspension":
      return "nobody suspends their own account: another administrator does";
  }
}
