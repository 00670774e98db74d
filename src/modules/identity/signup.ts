import { z } from "@hono/zod-openapi";
import { asciiDomain } from "../../kernel/text/email-address";

/** A DNS domain as an email's part after `@`: lower case, punycode ({@link asciiDomain}), at least two labels. */
export const DomainSchema = z
  .string()
  .trim()
  .toLowerCase()
  .overwrite(asciiDomain)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/,
    "must be a domain such as example.com",
  );

const Mode = z.enum(["open", "invite_only", "domains"]);
const Domains = z.array(DomainSchema).max(50);
const namesDomains = (p: { mode: string; domains: string[] }) => p.mode !== "domains" || p.domains.length > 0;
const namesDomainsError = { message: "name at least one domain when mode is domains", path: ["domains"] };

/**
 * Who may register in a tenant by themselves: anyone (`open`, the default),
 * nobody (`invite_only`: invitations are the way in), or people whose email
 * is at one of `domains` (`domains`: they must verify it before they can log
 * in, whatever `require_verified_email` says, since anyone can type an address).
 */
export const SignupPolicySchema = z
  .object({ mode: Mode, domains: Domains })
  .refine(namesDomains, namesDomainsError)
  .openapi("SignupPolicy");
export type SignupPolicy = z.infer<typeof SignupPolicySchema>;

/**
 * The policy as a settings change gives it: `domains` only matters for mode
 * `domains`, so elsewhere it may be left out. The change replaces the policy
 * whole: left out, `domains` is `[]`, so switching away drops the stored list
 * and switching back means naming the domains again (an old list never
 * comes back into force unseen).
 */
export const SignupPolicyChangeSchema = z
  .object({ mode: Mode, domains: Domains.default([]) })
  .refine(namesDomains, namesDomainsError)
  .openapi("SignupPolicyChange");

export const OPEN_SIGNUP: SignupPolicy = Object.freeze({ mode: "open", domains: [] });

/** The domain of an email address, lower case. */
export const emailDomain = (email: string): string => email.slice(email.lastIndexOf("@") + 1).toLowerCase();

/** Whether `email` may register by itself under `policy`. Pure: the directory asks it before anything else. */
export function maySelfRegister(policy: SignupPolicy, email: string): boolean {
  switch (policy.mode) {
    case "open":
      return true;
    case "invite_only":
      return false;
    case "domains":
      return policy.domains.includes(emailDomain(email));
  }
}

/** Whether a login needs a verified email: the tenant's setting, or always under a domain policy. */
export const needsVerifiedEmail = (requireVerified: boolean, policy: SignupPolicy): boolean =>
  requireVerified || policy.mode === "domains";
