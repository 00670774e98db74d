import * as oauth from "oauth4webapi";
import { OutboundFailed, OutboundRefused } from "../../../kernel/outbound";

/** The identity module's single-sign-on codes (errors.ts). */
export type SsoCode =
  | "sso_state_invalid"
  | "sso_provider_error"
  | "sso_id_token_invalid"
  | "sso_email_unverified"
  | "sso_domain_not_allowed";

/** Which step of a sign-in failed: it decides the code when the library's error is not specific. */
type Step = "discovery" | "authorization" | "token" | "id_token";

const CLAIMS: Record<string, string> = {
  iss: "the ID token was issued by another issuer",
  aud: "the ID token is meant for another client (audience)",
  azp: "the ID token is meant for another client (authorized party)",
  nonce: "the ID token's nonce does not match this sign-in",
};

/**
 * An expected failure of a sign-in, with a code and a detail written by us:
 * never the provider's error description or a response body, which may
 * echo tokens or personal data back.
 */
export class SsoFailure extends Error {
  constructor(
    readonly code: SsoCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "SsoFailure";
  }

  /** The failure an error of oauth4webapi or of the outbound guard stands for; anything else is a bug and is rethrown. */
  static from(error: unknown, step: Step): SsoFailure {
    if (error instanceof SsoFailure) return error;
    if (error instanceof OutboundRefused) {
      return new SsoFailure("sso_provider_error", `the identity provider may not be called: ${error.message}`);
    }
    if (error instanceof OutboundFailed) {
      return new SsoFailure("sso_provider_error", "the identity provider could not be reached");
    }
    if (error instanceof oauth.AuthorizationResponseError) {
      return new SsoFailure("sso_provider_error", `the identity provider refused the sign-in (${short(error.error)})`);
    }
    if (error instanceof oauth.WWWAuthenticateChallengeError) {
      // The usual answer to a client secret the provider does not take (401 with a challenge).
      // Its challenges may carry the provider's description: only the status is said.
      return new SsoFailure(
        "sso_provider_error",
        `the identity provider refused the client's credentials (HTTP ${error.status}); check client_id and client_secret`,
      );
    }
    if (error instanceof oauth.ResponseBodyError) {
      return new SsoFailure("sso_provider_error", `the token endpoint refused the code (${short(error.error)})`);
    }
    if (error instanceof oauth.OperationProcessingError) {
      if (step === "discovery" || step === "token")
        return new SsoFailure("sso_provider_error", `the identity provider's ${step} response is not valid`);
      if (step === "authorization")
        return new SsoFailure("sso_provider_error", "the authorization response is not valid (issuer or state)");
      if (error.code === oauth.JWT_CLAIM_COMPARISON) {
        const claim = claimOf(error.cause);
        return new SsoFailure("sso_id_token_invalid", CLAIMS[claim] ?? `the ID token's ${short(claim)} is not valid`);
      }
      if (error.code === oauth.JWT_TIMESTAMP_CHECK) {
        return new SsoFailure("sso_id_token_invalid", "the ID token has expired or is not yet valid");
      }
      if (error.code === oauth.KEY_SELECTION || /signature/i.test(error.message)) {
        return new SsoFailure(
          "sso_id_token_invalid",
          "the ID token's signature does not verify with the provider's keys",
        );
      }
      return new SsoFailure("sso_id_token_invalid", "the token response or its ID token is not valid");
    }
    if (error instanceof oauth.UnsupportedOperationError) {
      return new SsoFailure("sso_id_token_invalid", "the ID token uses an unsupported algorithm");
    }
    throw error;
  }
}

const short = (s: string): string => s.replace(/[^\w.-]/g, "").slice(0, 64);

function claimOf(cause: unknown): string {
  if (typeof cause === "object" && cause !== null && "claim" in cause && typeof cause.claim === "string") {
    return cause.claim;
  }
  return "claim";
}
