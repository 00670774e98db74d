import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { core } from "../../../wasm";

/** XChaCha20-Poly1305: 32-byte key, 24-byte nonce, 16-byte tag appended to the ciphertext. */
export interface Aead {
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array;
  /** Throws `Error("decryption failed")` when the ciphertext, tag, nonce, key or associated data do not match. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array;
}

export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 24;

function checkSizes(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== AEAD_KEY_BYTES) throw new Error(`AEAD key must be ${AEAD_KEY_BYTES} bytes, got ${key.length}`);
  if (nonce.length !== AEAD_NONCE_BYTES)
    throw new Error(`AEAD nonce must be ${AEAD_NONCE_BYTES} bytes, got ${nonce.length}`);
}

/**
 * The platform's AEAD: XChaCha20-Poly1305 from the WASM core (wasm/), which
 * wipes keys and plaintexts from its memory after every call.
 */
export const wasmAead: Aead = {
  seal(key, nonce, plaintext, ad) {
    checkSizes(key, nonce);
    return core.xchacha20poly1305Seal(key, nonce, plaintext, ad);
  },
  open(key, nonce, sealed, ad) {
    checkSizes(key, nonce);
    return core.xchacha20poly1305Open(key, nonce, sealed, ad);
  },
};

/**
 * The JavaScript reference implementation (@noble/ciphers): the WASM core is
 * tested against it, and envelopes sealed by either open with the other.
 */
export const nobleAead: Aead = {
  seal(key, nonce, plaintext, ad) {
    checkSizes(key, nonce);
    return xchacha20poly1305(key, nonce, ad).encrypt(plaintext);
  },
  open(key, nonce, sealed, ad) {
    checkSizes(key, nonce);
    try {
      return xchacha20poly1305(key, nonce, ad).decrypt(sealed);
    } catch {
      throw new Error("decryption failed");
    }
  },
};
