/**
 * Password hashing (Argon2id, PHC strings) and token primitives (random
 * tokens, SHA-256, constant-time compare, base64url, time-ordered ids).
 */
export {
  type Argon2Params,
  createArgon2idHasher,
  OWASP_ARGON2ID,
  type PasswordHasher,
  type PasswordVerification,
  passwordProblem,
} from "./password";
export {
  base64UrlDecode,
  base64UrlEncode,
  newId,
  randomToken,
  sha256Hex,
  timingSafeEqual,
  timingSafeEqualBytes,
} from "./tokens";
