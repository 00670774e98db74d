import { derivedKey } from "../crypto/derived-key";
import { hash } from "../crypto/hash";
import { toHex } from "../crypto/tokens";

const encoder = new TextEncoder();
const DIGEST_BYTES = 16;

/** A recipient digest: what {@link recipientDigest} answers, 32 hex characters. */
export const RECIPIENT_DIGEST = /^[0-9a-f]{32}$/;

const digestKey = derivedKey("plinth mail recipient");

/**
 * Who a mail dead letter is addressed to, without the address: hex BLAKE2b-128 of `<tenant
 * id>\0<address, lower-cased>`, keyed by a key derived from `secret` (the config's `ipHashKey`:
 * IP_HASH_KEY, else PLATFORM_ROOT_KEY, which stays put when the root key rotates). Stored beside
 * a letter when it is kept, and computed again from an account's email when the account is
 * deleted, so its letters are found by an index, and found again by a later retry after the
 * email itself is gone (docs/notifications.md). Keyed, since addresses are guessable; salted by
 * the tenant, so one address is not linkable across tenants. Null without a secret.
 *
 * @example
 * recipientDigest(config.ipHashKey, tenant.id, "Ada@example.com"); // "9f1c…" (32 hex)
 */
export function recipientDigest(secret: string | undefined, tenantId: string, address: string): string | null {
  if (!secret) return null;
  const message = encoder.encode(`${tenantId}\u0000${address.toLowerCase()}`);
  return toHex(hash.blake2b(message, { key: digestKey(secret), outLen: DIGEST_BYTES }));
}
