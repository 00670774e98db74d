import { emailDomain, maySelfRegister, type SignupPolicy } from "../signup";
import type { SsoSettings } from "./schemas";

/** ID-token claims as they come: JSON values. */
export type Claims = Readonly<Record<string, unknown>>;

const matches = (claim: unknown, value: string): boolean =>
  Array.isArray(claim) ? claim.some((v) => v === value) : claim === value || String(claim) === value;

/**
 * The roles a user provisioned just in time gets: every mapping rule whose
 * claim matches, else the default role. Pure.
 *
 * @example
 * rolesFor({ role_mapping: [{ claim: "groups", value: "eng", role: "admin" }], default_role: "member" }, { groups: ["eng"] }); // ["admin"]
 */
export function rolesFor(config: Pick<SsoSettings, "role_mapping" | "default_role">, claims: Claims): string[] {
  const mapped = config.role_mapping
    .filter((rule) => claims[rule.claim] !== undefined && claims[rule.claim] !== null)
    .filter((rule) => matches(claims[rule.claim], rule.value))
    .map((rule) => rule.role);
  return mapped.length > 0 ? [...new Set(mapped)].sort() : [config.default_role];
}

/** Whether the email's domain is one the provider configuration allows. */
export const domainAllowed = (config: Pick<SsoSettings, "allowed_domains">, email: string): boolean =>
  config.allowed_domains.includes(emailDomain(email));

/**
 * Whether a sign-in by an email with no account may create one: when the
 * provider has `jit` on, or when the tenant's signup policy would let that
 * email register by itself (open, or its domain listed). Invite-only tenants
 * without `jit` refuse.
 */
export const mayProvision = (policy: SignupPolicy, jit: boolean, email: string): boolean =>
  jit || maySelfRegister(policy, email);

/**
 * What the directory knows of the account an unlinked identity's email names: an owner's, two-factor
 * on, and whether the tenant requires two-factor of it (`require_two_factor_for_admins` covers its roles).
 */
export type LinkFacts = { owner: boolean; twoFactor: boolean; twoFactorRequired: boolean };

/**
 * Whether a first sign-in may link a provider identity to an existing account
 * by its email alone. Not an owner's, nor one two-factor protects, nor one the
 * tenant requires two-factor of (an administrator while
 * `require_two_factor_for_admins` is on, enrolled or not): the provider vouches
 * for the email, and whoever controls the provider (or a provider careless
 * with emails) would otherwise sign in as that account past its password and
 * the second factor it has or must have. Those accounts are linked only
 * explicitly, by their user signed in (`POST /api/v1/me/sso/link`). Pure.
 */
export const mayLinkByEmail = (facts: LinkFacts): boolean =>
  !facts.owner && !facts.twoFactor && !facts.twoFactorRequired;
