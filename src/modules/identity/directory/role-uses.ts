import { z } from "zod";

/** The role self-registration gives every new user (docs/identity.md#users-and-passwords). */
export const REGISTRATION_ROLE = "member";

/**
 * What still names a role, so deleting it would take rights from someone unnoticed: the users
 * holding it, the pending invitations promising it, the SSO configuration fields mapping
 * sign-ins to it, and self-registration (for {@link REGISTRATION_ROLE}). A role is deleted only
 * when nothing does (docs/identity.md#roles).
 */
export const RoleUsesSchema = z.object({
  users: z.number().int().min(0),
  /** Ids of pending invitations that name the role (accepted, revoked or expired ones name nothing). */
  invitations: z.array(z.string()),
  /** The fields of the tenant's SSO provider configuration that name the role. */
  sso: z.array(z.enum(["role_mapping", "default_role"])),
  /** Self-registration gives it to every new user: a role set to `[]` gives them nothing, a missing one broke registration. */
  registration: z.boolean(),
});
export type RoleUses = z.infer<typeof RoleUsesSchema>;

/** Nothing names the role. */
export const UNUSED: RoleUses = { users: 0, invitations: [], sso: [], registration: false };

export const isUsed = (uses: RoleUses): boolean =>
  uses.users > 0 || uses.invitations.length > 0 || uses.sso.length > 0 || uses.registration;

/**
 * The SSO configuration fields that name `role`.
 *
 * @example
 * ssoFieldsNaming({ role_mapping: [{ role: "staff" }], default_role: "member" }, "staff"); // ["role_mapping"]
 */
export function ssoFieldsNaming(
  config: { role_mapping: readonly { role: string }[]; default_role: string },
  role: string,
): RoleUses["sso"] {
  const fields: RoleUses["sso"] = [];
  if (config.role_mapping.some((m) => m.role === role)) fields.push("role_mapping");
  if (config.default_role === role) fields.push("default_role");
  return fields;
}

/**
 * The uses as a `409 role_in_use` shows them to its caller: how many pending invitations name
 * the role, and their ids only to a caller who may read invitations (`seesInvitations`). Managing
 * roles does not include reading invitations, so a roles-only key must not learn their ids.
 */
export function usesShown(uses: RoleUses, seesInvitations: boolean) {
  const { invitations, ...rest } = uses;
  return { ...rest, pending_invitations: invitations.length, ...(seesInvitations ? { invitations } : {}) };
}

/** A refusal's detail: each use, and what the administrator does about it (invitation ids as {@link usesShown}). */
export function describeUses(role: string, uses: RoleUses, seesInvitations: boolean): string {
  const parts: string[] = [];
  if (uses.users > 0) parts.push(`${uses.users} user${uses.users === 1 ? "" : "s"} hold it (revoke it from them)`);
  const pending = uses.invitations.length;
  if (pending > 0 && seesInvitations) {
    parts.push(`pending invitations name it: ${uses.invitations.join(", ")} (revoke them)`);
  } else if (pending > 0) {
    parts.push(
      `${pending} pending invitation${pending === 1 ? "" : "s"} name it (someone who may manage invitations revokes them)`,
    );
  }
  if (uses.sso.length > 0) parts.push(`the SSO configuration maps to it in ${uses.sso.join(" and ")} (change it)`);
  if (uses.registration) parts.push("self-registration gives it to every new user (empty its permissions instead)");
  return `the role ${role} is still used: ${parts.join("; ")}`;
}
