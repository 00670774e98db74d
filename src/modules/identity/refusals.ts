import type { Context } from "hono";
import { deny } from "../../kernel/auth/deny";
import { isPermissionPattern } from "../../kernel/auth/permissions";
import type { AppEnv } from "../../kernel/env";
import { AppError, type AppErrorOptions } from "../../kernel/errors";
import { type IdentityErrorCode, identityErrors } from "./errors";
import { misshapenPatternMessage, nearestPermission } from "./permission-hint";
import { describeRefusal, type Refusal } from "./policy";
import { isKnownPermission } from "./undeclared";

/** The owner invariants are state conflicts (409), each with its own code. */
const CONFLICTS: Partial<Record<Refusal["rule"], IdentityErrorCode>> = {
  last_owner: "last_owner",
  owner_fixed: "owner_role_fixed",
};

/**
 * The HTTP answer to a refusal of the authority policy: 403 `forbidden`, or
 * the owner invariants' own 409 codes; recorded as `authz.denied` naming the
 * rule, the permissions involved and the target.
 */
export function refused(c: Context<AppEnv>, refusal: Refusal, target?: string | null): AppError {
  const conflict = CONFLICTS[refusal.rule];
  return deny(c, {
    rule: refusal.rule,
    permissions: refusal.rule === "not_held" ? refusal.permissions : undefined,
    target,
    detail: describeRefusal(refusal),
    code: conflict ? { code: conflict, spec: identityErrors[conflict] } : "forbidden",
  });
}

/**
 * A directory write's refusal about a user or key: its authority's, a calling key it would cut
 * off (`revokes_caller`), or none such (`not_found`, or what the caller has already answered).
 */
export type WriteRefusal = { error: "denied"; refusal: Refusal } | { error: string };

/**
 * The HTTP answer to a {@link WriteRefusal} about `target`: the authority's (403, or an owner
 * invariant's 409), `409 revokes_own_key` saying why the calling key would cut itself off and
 * what to use instead (`revokesCaller`), or 404 (`notFound`).
 */
export function writeRefused(
  c: Context<AppEnv>,
  target: string,
  failed: WriteRefusal,
  texts: { revokesCaller: string; notFound: string },
): AppError {
  if ("refusal" in failed) return refused(c, failed.refusal, target);
  if (failed.error === "revokes_caller") return identityError("revokes_own_key", texts.revokesCaller);
  return new AppError("not_found", { detail: texts.notFound });
}

/** The 412 of a conditional write, with `current_version`: the kernel's, as every versioned resource answers it. */
export { staleVersion } from "../../kernel/http/stale-version";

/** The AppError for one of the identity module's codes (typed, where `moduleError` takes any string). */
export const identityError = (
  code: IdentityErrorCode,
  detail: string,
  options: Pick<AppErrorOptions, "extensions"> = {},
): AppError => new AppError(code, { ...options, detail, spec: identityErrors[code] });

/**
 * A sign-in of an account an administrator suspended (docs/identity.md#suspending-a-member): told
 * only to a caller who proved the account (its password, a challenge it earned, its provider's
 * word, a token from its mailbox), so an anonymous caller learns no more than a login's 401 says.
 */
export const accountSuspended = (): AppError =>
  identityError("account_suspended", "this account is suspended: ask an administrator of the tenant to reactivate it");

/**
 * A sign-in (password or single sign-on) of an account the tenant requires two-factor of
 * (`require_two_factor_for_admins`) that has not enrolled: how to get out of it, since the
 * account has no session to enrol from otherwise.
 */
export const enrolmentRequired = (): AppError =>
  identityError(
    "two_factor_required",
    "this tenant requires two-factor authentication for administrators: enrol at POST /api/v1/me/two-factor from a session you still have, or ask an administrator to turn require_two_factor_for_admins off while you enrol",
  );

/**
 * Why `value` is refused, with the nearest declared permission or pattern when one is a typo
 * away; a wildcard in a shape no pattern has, with the shapes there are and what it meant.
 */
function unknownMessage(declared: ReadonlySet<string>, value: string): string {
  if (value.includes("*") && !isPermissionPattern(value)) return misshapenPatternMessage([...declared], value);
  const hint = nearestPermission([...declared], value);
  const why =
    isPermissionPattern(value) && value.includes("*")
      ? `${value} covers no declared permission`
      : `unknown permission ${value}`;
  return hint === null ? why : `${why} (did you mean ${hint}?)`;
}

/**
 * Permissions named in a request body, checked against those the registered
 * modules declare (and, where `allowPatterns`, `*` and the patterns `<module>.*`, `*.<action>`
 * covering one of them); sorted and unique. Unknown ones are a 400 naming each, but
 * for those in `held`: a role's own permissions that no module declares any
 * more (its module was removed), which a write sending the role back as read
 * keeps (./undeclared.ts). A new one is refused as a typo would be.
 */
export function declaredPermissions(
  c: Context<AppEnv>,
  values: readonly string[],
  field: string,
  allowPatterns: boolean,
  held: readonly string[] = [],
): string[] {
  const declared = new Set(c.get("platform").permissions);
  const kept = new Set(held);
  const unknown = values.filter((p) => !isKnownPermission(declared, p, allowPatterns) && !kept.has(p));
  if (unknown.length > 0) {
    throw new AppError("validation_failed", {
      detail: `unknown permission${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`,
      errors: unknown.map((p) => ({
        path: `body.${field}.${values.indexOf(p)}`,
        message: unknownMessage(declared, p),
      })),
    });
  }
  return [...new Set(values)].sort();
}
