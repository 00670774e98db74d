import type { Context } from "hono";
import type { Clock } from "../../kernel/clock";
import { loadConfig } from "../../kernel/config";
import { tenantEnvelopeOf, tenantEnvelopeOfRequest } from "../../kernel/crypto/tenant-envelope";
import type { AppEnv } from "../../kernel/env";
import type { EnvNeeds, ModuleDef } from "../../kernel/modules/types";
import type { EndpointConfig } from "./contract";
import { liveSecrets } from "./endpoints-table";

/**
 * The envelope field a signing secret is sealed under: bound to its endpoint,
 * so a sealed secret copied to another endpoint (or tenant) does not open.
 */
export const secretField = (endpointId: string) => `webhooks.secret/${endpointId}`;

/** How long a rotated-out secret keeps signing beside the new one, so receivers can switch over. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

/**
 * Seals a new signing secret with the tenant's envelope key (ENCRYPTION_KEYS
 * plus the tenant's seed). Without ENCRYPTION_KEYS webhooks cannot keep
 * secrets: 503 naming the missing configuration, never a secret.
 */
export async function sealSecret(c: Context<AppEnv>, endpointId: string, secret: string) {
  return tenantEnvelopeOfRequest(
    c,
    "webhooks need ENCRYPTION_KEYS (the master keys that seal signing secrets); see docs/configuration.md",
  ).encrypt(secretField(endpointId), secret);
}

/**
 * What the endpoint actor opens secrets with: its env and clock, the platform's modules (the seed
 * source) and its needs, which the config is loaded with as the request path loads it (a
 * `RATE_LIMITS` the request path refuses signs nothing either).
 */
export interface SecretOpener {
  env: Env;
  clock: Clock;
  modules: readonly ModuleDef[];
  needs: EnvNeeds;
}

/**
 * The secrets an endpoint signs with at `now`, opened with the tenant's envelope key: the
 * current one, and a rotated-out one until its overlap ends (even if no newer config has
 * arrived since). Throws naming the configuration that is missing or invalid (names only).
 */
export async function openSecrets(
  { env, clock, modules, needs }: SecretOpener,
  config: EndpointConfig,
  now: number,
): Promise<string[]> {
  const keys = loadConfig(env, needs);
  if (!keys.ok) {
    const names = [...new Set(keys.issues.map((i) => i.variable))].join(", ");
    throw new Error(`the configuration is invalid (${names}): webhook secrets cannot be opened`);
  }
  const encryptionKeys = keys.config.encryptionKeys;
  if (!encryptionKeys) throw new Error("ENCRYPTION_KEYS is not configured: webhook secrets cannot be opened");
  const envelope = tenantEnvelopeOf({ env, config: { encryptionKeys }, clock, modules });
  return Promise.all(
    liveSecrets(config.secrets, now).map((s) =>
      envelope.decryptText(config.tenant_id, secretField(config.endpoint_id), s.sealed),
    ),
  );
}
