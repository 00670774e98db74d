import { createArgon2idHasher, normalisedPasswords, randomToken, sha256Hex } from "../../kernel/crypto";

/**
 * Argon2id with OWASP parameters (19 MiB, t=2, p=1), from the WASM core, over the NFC form of
 * each password: the same passphrase typed composed or decomposed is the same password.
 */
export const hasher = normalisedPasswords(createArgon2idHasher());

const ENV_TAG: Record<string, string> = { development: "dev", test: "test", staging: "stg", production: "live" };

/**
 * A new API key: `plk_<env>_<43 chars>` (256 random bits). The prefix shown
 * in listings is the first 8 random characters; only the SHA-256 is stored.
 */
export async function newApiKey(environment: string): Promise<{ key: string; prefix: string; hash: string }> {
  const secret = randomToken(32);
  const key = `plk_${ENV_TAG[environment] ?? "dev"}_${secret}`;
  return { key, prefix: key.slice(0, key.length - secret.length + 8), hash: await sha256Hex(key) };
}

/** A new opaque secret (refresh, verification or reset token) and its stored hash. */
export async function newSecret(tag: string): Promise<{ token: string; hash: string }> {
  const token = `${tag}_${randomToken(32)}`;
  return { token, hash: await sha256Hex(token) };
}
