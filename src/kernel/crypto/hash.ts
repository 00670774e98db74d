import { type Blake2bOptions, core } from "../../../wasm";

/**
 * Hash functions: BLAKE2b from the WASM core (10–20× @noble/hashes, see
 * bench/REPORT.md), SHA-256 from native WebCrypto (faster than any WASM).
 */
export interface Hash {
  /** BLAKE2b (RFC 7693), optionally keyed (a MAC), with a digest of 1..64 bytes (default 64). */
  blake2b(message: Uint8Array, options?: Blake2bOptions): Uint8Array;
  /** SHA-256 digest (32 bytes). */
  sha256(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * The platform's hashes.
 *
 * @example
 * const mac = hash.blake2b(body, { key, outLen: 32 });
 * const digest = await hash.sha256(bytes);
 */
export const hash: Hash = {
  blake2b: (message, options) => core.blake2b(message, options),
  sha256: async (message) => new Uint8Array(await crypto.subtle.digest("SHA-256", message)),
};
