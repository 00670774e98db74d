import { type Blake2bOptions, core } from "../../../wasm";
import { toHex } from "./tokens";

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

const encoder = new TextEncoder();
// Drawn on first use: workerd refuses random values at global scope.
let isolateKey: Uint8Array | undefined;

/**
 * A keyed BLAKE2b (32 bytes, hex) of a presented secret under a key drawn once per
 * isolate: the cache key for credentials on every request. Synchronous and ~1 µs in the
 * WASM core, where WebCrypto's SHA-256 costs a promise; and unlike the secret or its
 * unkeyed SHA-256 (the API-key index's lookup value), it means nothing outside this
 * isolate, so a cache holds no usable credential.
 *
 * @example
 * keyCache.get(isolateDigest(token));
 */
export function isolateDigest(secret: string): string {
  isolateKey ??= crypto.getRandomValues(new Uint8Array(32));
  return toHex(core.blake2b(encoder.encode(secret), { key: isolateKey, outLen: 32 }));
}
