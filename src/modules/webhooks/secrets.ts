import type { Context } from "hono";
import type { AppEnv } from "../../kernel/env";
import { AppError } from "../../kernel/errors";
import { tenantEnvelope } from "../identity/key-material";

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
export async function sealSecret(c: Context<AppEnv>, tenantId: string, endpointId: string, secret: string) {
  const keys = c.get("config").encryptionKeys;
  if (!keys) {
    throw new AppError("unavailable", {
      detail: "webhooks need ENCRYPTION_KEYS (the master keys that seal signing secrets); see docs/configuration.md",
    });
  }
  return tenantEnvelope(c.env, keys, c.get("clock")).encrypt(tenantId, secretField(endpointId), secret);
}
