import { derivedKey } from "../crypto/derived-key";
import { hash } from "../crypto/hash";
import { sha256Hex, toHex } from "../crypto/tokens";

const encoder = new TextEncoder();

const fingerprintKey = derivedKey("plinth idempotency fingerprint");

/**
 * What an idempotency record keeps of its request, to tell a repeat from another body under the
 * same key: hex BLAKE2b-256 of method, path and the body's SHA-256, keyed by a key derived from
 * `secret` (`IP_HASH_KEY`, else `PLATFORM_ROOT_KEY`). Keyed, because some bodies hold a password
 * (`POST /me/sso/link`, change-password): a plain hash kept 24 h in the store would let whoever
 * read the store try passwords against it offline. Without a secret (a test Worker), unkeyed.
 *
 * @example
 * const fingerprint = requestFingerprint(config.ipHashKey, "POST", "/api/v1/blog/posts", bodySha256);
 */
export function requestFingerprint(
  secret: string | undefined,
  method: string,
  path: string,
  bodySha256: Uint8Array,
): string {
  const message = encoder.encode(`${method}\n${path}\n${toHex(bodySha256)}`);
  return toHex(hash.blake2b(message, { outLen: 32, ...(secret ? { key: fingerprintKey(secret) } : {}) }));
}

/**
 * The fingerprint records kept before they were keyed (plinth before 227ed411): hex SHA-256 of
 * the same text, unkeyed. A record an older deploy wrote holds it for up to 24 h after that
 * deploy, so a client retrying across the upgrade matches its own first request only through
 * it. The store compares it and, on a match, keeps the keyed fingerprint instead: it is sent,
 * never stored.
 *
 * @example
 * const legacy = await plainFingerprint("POST", "/api/v1/blog/posts", bodySha256);
 */
export const plainFingerprint = (method: string, path: string, bodySha256: Uint8Array): Promise<string> =>
  sha256Hex(`${method}\n${path}\n${toHex(bodySha256)}`);
