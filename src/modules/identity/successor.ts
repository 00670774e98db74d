import { base64UrlDecode, base64UrlEncode, wasmAead } from "../../kernel/crypto";
import { AEAD_NONCE_BYTES } from "../../kernel/crypto/aead";

/**
 * The refresh grace's one secret: a rotated refresh token's successor, kept so that the
 * same spent token presented again within the grace (a second tab, a retry after a lost
 * response) is answered the same successor instead of revoking the family.
 *
 * The successor is sealed under a key derived from the *spent* token itself, which the
 * directory never holds (it keeps SHA-256 hashes only). So the row is useless to whoever
 * reads the directory's storage: only a holder of the spent token can open it, and that
 * holder could have asked for it within the grace anyway. The associated data binds the
 * ciphertext to the spent token's hash, so it cannot be moved to another row.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const INFO = encoder.encode("plinth refresh successor v1");

async function keyOf(spentToken: string): Promise<Uint8Array> {
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(spentToken), "HKDF", false, ["deriveBits"]);
  // The spent token carries 256 random bits: HKDF needs no salt to turn it into a key.
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: INFO },
    ikm,
    256,
  );
  return new Uint8Array(bits);
}

/** The successor of `spentToken`, sealed for the directory (base64url of nonce and ciphertext). */
export async function sealSuccessor(spentToken: string, spentHash: string, successor: string): Promise<string> {
  const nonce = crypto.getRandomValues(new Uint8Array(AEAD_NONCE_BYTES));
  const sealed = wasmAead.seal(await keyOf(spentToken), nonce, encoder.encode(successor), encoder.encode(spentHash));
  const out = new Uint8Array(nonce.length + sealed.length);
  out.set(nonce);
  out.set(sealed, nonce.length);
  return base64UrlEncode(out);
}

/** The successor sealed by {@link sealSuccessor}, or null when it does not open with this token. */
export async function openSuccessor(spentToken: string, spentHash: string, sealed: string): Promise<string | null> {
  try {
    const bytes = base64UrlDecode(sealed);
    const nonce = bytes.subarray(0, AEAD_NONCE_BYTES);
    const box = bytes.subarray(AEAD_NONCE_BYTES);
    return decoder.decode(wasmAead.open(await keyOf(spentToken), nonce, box, encoder.encode(spentHash)));
  } catch {
    return null;
  }
}
