/**
 * The crypto facade: password hashing (Argon2id, PHC strings), AEAD
 * (XChaCha20-Poly1305), hashes (BLAKE2b, SHA-256), Ed25519 signatures, and token
 * primitives (random tokens, constant-time compare, base64url, time-ordered ids).
 * Argon2id, XChaCha20-Poly1305 and BLAKE2b run in the WASM core (wasm/); SHA-256
 * and Ed25519 on native WebCrypto. See docs/crypto.md.
 */
export { type Aead, nobleAead, wasmAead } from "./aead";
export { type Hash, hash, isolateDigest } from "./hash";
export {
  type Argon2idKdf,
  type Argon2Params,
  createArgon2idHasher,
  nobleArgon2id,
  OWASP_ARGON2ID,
  type PasswordHasher,
  type PasswordVerification,
  passwordProblem,
  wasmArgon2id,
} from "./password";
export { normalisedPasswords, normalisePassword } from "./password-text";
export { ed25519Signer, type Signer } from "./signer";
export {
  base64UrlDecode,
  base64UrlEncode,
  isNewId,
  NEW_ID_PATTERN,
  newId,
  randomToken,
  sha256Hex,
  timingSafeEqual,
  timingSafeEqualBytes,
  toHex,
} from "./tokens";
