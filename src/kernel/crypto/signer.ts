import type { SigningKeySet } from "../auth/signing-keys";
import { base64UrlDecode, base64UrlEncode } from "./tokens";

const ED25519 = { name: "Ed25519" } as const;

/**
 * Ed25519 signatures with the platform's keys (JWT_SIGNING_KEYS), on native
 * WebCrypto: faster than any WebAssembly or JavaScript Ed25519 here (see
 * bench/REPORT.md and ../shared/TOOLCHAIN.md), so it stays out of the WASM core.
 * Signatures travel as base64url.
 */
export interface Signer {
  /** kid of the key that signs (the newest in the set). */
  readonly kid: string;
  /** Base64url Ed25519 signature of `message` by the current key. */
  sign(message: Uint8Array): Promise<string>;
  /**
   * Whether `signature` (base64url) is a valid signature of `message` by the key
   * `kid` of the set. False, never a throw, for an unknown kid or a malformed signature.
   */
  verify(kid: string, message: Uint8Array, signature: string): Promise<boolean>;
}

/**
 * The {@link Signer} over an imported key set.
 *
 * @example
 * const signer = ed25519Signer(await loadSigningKeys(env.JWT_SIGNING_KEYS));
 * const sig = await signer.sign(bytes);
 * await signer.verify(signer.kid, bytes, sig); // true
 */
export function ed25519Signer(keys: SigningKeySet): Signer {
  return {
    kid: keys.currentKid,
    async sign(message) {
      return base64UrlEncode(new Uint8Array(await crypto.subtle.sign(ED25519, keys.sign, message)));
    },
    async verify(kid, message, signature) {
      const key = keys.verify.get(kid);
      if (!key) return false;
      try {
        return await crypto.subtle.verify(ED25519, key, base64UrlDecode(signature), message);
      } catch {
        // Not base64url, or not 64 bytes: as bad as a wrong signature.
        return false;
      }
    },
  };
}
