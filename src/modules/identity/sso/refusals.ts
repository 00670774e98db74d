import type { RpcReply } from "../../../kernel/durable/rpc";
import { AppError, moduleError } from "../../../kernel/errors";
import type { DirectoryRpc } from "../directory/contract";
import { identityErrors } from "../errors";
import { accountSuspended, enrolmentRequired } from "../refusals";

/** A sign-in the directory refused (`ssoLogin`'s failures; a challenge is no refusal, the callback answers it). */
export type SignInRefusal = Exclude<
  Extract<RpcReply<typeof DirectoryRpc, "ssoLogin">, { ok: false }>,
  { error: "two_factor_challenge" }
>;

/**
 * The answer to the person signing in when the directory refused their sign-in. Written for
 * them, who may be anyone the provider vouches for: never the tenant's role names, nor
 * anything about the account an email names (its roles, its second factor).
 */
export function signInRefusal(refusal: SignInRefusal): AppError {
  switch (refusal.error) {
    case "signup_closed":
      return moduleError(identityErrors, "signup_closed", {
        detail:
          "this tenant does not create accounts on sign-in for this address; ask an administrator for an invitation",
      });
    case "identity_conflict":
      return moduleError(identityErrors, "sso_identity_conflict", {
        detail: "this account is linked to another identity at this provider; ask an administrator",
      });
    case "link_required":
      return moduleError(identityErrors, "sso_link_required", {
        detail:
          "an account with this email exists but is not linked to this identity provider; sign in with your password and link it from your account first",
      });
    case "link_mismatch":
      return moduleError(identityErrors, "sso_link_mismatch", {
        detail:
          "the identity provider signed in someone whose email is not this account's; sign in there as yourself and link again",
      });
    case "role_missing":
      // Only a configuration from before role deletion checked it can name a role that is gone. Which
      // roles goes to the operator's log and the tenant's audit log, not to whoever signs in.
      return new AppError("conflict", {
        detail:
          "the single sign-on configuration cannot create an account for this sign-in; ask an administrator to check it",
      });
    case "suspended":
      // The provider vouched for the account's person, who learns what their password would tell them.
      return accountSuspended();
    case "two_factor_required":
      // The identity is linked to this account: its person is the account's, and learns what login tells them.
      return enrolmentRequired();
    case "wrong_proof":
      return moduleError(identityErrors, "wrong_two_factor_code", {
        detail: "the recovery code given when linking was used since; ask for the link again",
      });
    case "provider_replaced":
      return providerReplaced();
    case "domain_not_allowed":
      return domainNotAllowed();
    case "not_configured":
      return moduleError(identityErrors, "sso_not_configured", {
        detail: "this tenant has no identity provider configured",
      });
  }
}

/**
 * A sign-in through a provider that the tenant has replaced (another issuer or client) or deleted since:
 * its two-factor challenge, or its callback when the replacement came while the Worker was at the token
 * endpoint. Refused as a callback whose state was sealed for the old provider is (`400 sso_state_invalid`).
 * The person signs in again, at the provider in use.
 */
export function providerReplaced(): AppError {
  return moduleError(identityErrors, "sso_state_invalid", {
    detail: "this sign-in was begun at an identity provider the tenant no longer uses; sign in again",
  });
}

/**
 * An email whose domain the provider's `allowed_domains` does not list: at the callback, at the directory
 * (narrowed while the Worker was at the token endpoint) and at the sign-in's two-factor challenge
 * (narrowed in its minutes), one answer: `403 sso_domain_not_allowed`.
 */
export function domainNotAllowed(): AppError {
  return moduleError(identityErrors, "sso_domain_not_allowed", {
    detail: "this email's domain may not sign in to this tenant",
  });
}
