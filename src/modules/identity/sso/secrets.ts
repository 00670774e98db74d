import type { Context } from "hono";
import { tenantEnvelopeOfRequest } from "../../../kernel/crypto/tenant-envelope";
import type { AppEnv } from "../../../kernel/env";
import { checkUrl, type OutboundPolicy } from "../../../kernel/outbound";

/** The envelope field the client secret is sealed under: a ciphertext copied elsewhere does not open. */
export const SSO_SECRET_FIELD = "identity.sso.client_secret";

/** The tenant envelope, which seals the client secret and each sign-in under way (state.ts). */
export const ssoEnvelope = (c: Context<AppEnv>) =>
  tenantEnvelopeOfRequest(
    c,
    "single sign-on needs ENCRYPTION_KEYS (the master keys that seal client secrets and sign-ins under way); see docs/configuration.md",
  );

/** Seals the provider's client secret with the tenant's envelope key. */
export const sealClientSecret = (c: Context<AppEnv>, secret: string): Promise<string> =>
  ssoEnvelope(c).encrypt(SSO_SECRET_FIELD, secret);

/** Opens the sealed client secret (only for the token request). */
export const openClientSecret = (c: Context<AppEnv>, sealed: string): Promise<string> =>
  ssoEnvelope(c).decryptText(SSO_SECRET_FIELD, sealed);

/** The outbound rules for provider URLs: loopback http only in development and test, as webhooks have it. */
export function ssoOutboundPolicy(c: Context<AppEnv>): OutboundPolicy {
  const environment = c.get("config").environment;
  return { development: environment === "development" || environment === "test" };
}

/** Why a provider or app URL is refused under the outbound rules, or null. */
export function urlRefusal(raw: string, policy: OutboundPolicy): string | null {
  const check = checkUrl(raw, policy);
  return check.ok ? null : check.reason;
}
