import { argon2idAsync } from "@noble/hashes/argon2.js";
import { type Argon2Params, core } from "../../../wasm";
import { normalisePassword } from "./password-text";
import { base64UrlDecode, base64UrlEncode, timingSafeEqualBytes } from "./tokens";

export type { Argon2Params };

// Passwords are hashed by the WASM core's Argon2id (~5x faster than JavaScript:
// ~45 ms instead of ~240 ms at OWASP's parameters, see bench/REPORT.md), which
// keeps a login within Workers' CPU limits. @noble/hashes' Argon2id stays as the
// reference: both produce byte-identical PHC strings (test/unit/password.test.ts).

/** Raw Argon2id (version 0x13): the one primitive a {@link PasswordHasher} needs. */
export type Argon2idKdf = (
  password: Uint8Array,
  salt: Uint8Array,
  params: Argon2Params,
  dkLen: number,
) => Uint8Array | Promise<Uint8Array>;

/** Argon2id from the WASM core (wasm/core.zig, Zig std), which wipes its memory after each hash. */
export const wasmArgon2id: Argon2idKdf = (password, salt, params, dkLen) =>
  core.argon2id(password, salt, params, dkLen);

/** Argon2id from @noble/hashes: the JavaScript reference. */
export const nobleArgon2id: Argon2idKdf = (password, salt, { m, t, p }, dkLen) =>
  argon2idAsync(password, salt, { m, t, p, dkLen, version: 0x13 });

/** The OWASP Password Storage Cheat Sheet's first Argon2id choice: 19 MiB, 2 passes, 1 lane. */
export const OWASP_ARGON2ID: Argon2Params = { m: 19456, t: 2, p: 1 };

/** The outcome of checking a password against a stored hash. */
export interface PasswordVerification {
  ok: boolean;
  /** The stored hash uses other parameters than the hasher's; store a fresh hash after a successful login. */
  needsRehash: boolean;
}

/** Hashes and verifies passwords as PHC strings. */
export interface PasswordHasher {
  /** PHC string: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (standard base64 without padding, 16-byte random salt, 32-byte hash) */
  hash(password: string): Promise<string>;
  /**
   * Never throws on a malformed/unknown stored string: returns { ok: false, needsRehash: true }, after
   * the work of a real verify (as {@link verifyDummy}), so such a string is not told apart by timing.
   * Parses the parameters from the stored string (so old hashes with other params still verify);
   * needsRehash is true when they differ from the hasher's current params. Compares in constant time.
   */
  verify(stored: string, password: string): Promise<PasswordVerification>;
  /**
   * Spends the same work as a verify against a real hash, returns nothing: used when a login names
   * an unknown email so timing does not reveal which emails exist. Keeps a dummy hash computed once
   * per isolate (lazily).
   */
  verifyDummy(password: string): Promise<void>;
}

const SALT_BYTES = 16;
const HASH_BYTES = 32;
// Bounds on parameters, for our own config and for stored strings alike: a typo
// or a tampered row must not make one login cost seconds or gigabytes.
const MAX_M = 262144;
const MAX_T = 16;
const MAX_P = 16;
const MIN_SALT_BYTES = 8;
const MIN_HASH_BYTES = 16;
const MAX_PHC_BYTES = 64;
const MIN_PASSWORD_CHARS = 12;
const MAX_PASSWORD_BYTES = 1024;

// Decimal parameters without leading zeros, in the reference order m, t, p, so one hash has one spelling.
const NUM = "([1-9][0-9]{0,8})";
const B64 = "([A-Za-z0-9+/]+)";
const PHC = new RegExp(`^\\$argon2id\\$v=19\\$m=${NUM},t=${NUM},p=${NUM}\\$${B64}\\$${B64}$`);
const encoder = new TextEncoder();

interface ParsedHash {
  params: Argon2Params;
  salt: Uint8Array;
  hash: Uint8Array;
}

/**
 * Creates an Argon2id hasher with the given cost (OWASP's by default).
 * `kdf` is the WASM core unless a test passes the reference.
 * Throws on parameters outside sane bounds (m < 8·p, t < 1, p < 1, m > 262144 KiB, t or p > 16).
 *
 * @example
 * const hasher = createArgon2idHasher();
 * const stored = await hasher.hash("correct horse battery");
 * const { ok, needsRehash } = await hasher.verify(stored, "correct horse battery");
 */
export function createArgon2idHasher(
  params: Argon2Params = OWASP_ARGON2ID,
  kdf: Argon2idKdf = wasmArgon2id,
): PasswordHasher {
  const problem = paramsProblem(params);
  if (problem) throw new RangeError(`invalid Argon2id parameters: ${problem}`);
  const current: Argon2Params = { m: params.m, t: params.t, p: params.p };
  // Random salt and random "hash" with the current params: verifying against it costs exactly
  // one real verification and can never succeed, and making it costs no Argon2 run of its own.
  let dummy: string | undefined;
  const dummyHash = () => {
    dummy ??= formatPhc(
      current,
      crypto.getRandomValues(new Uint8Array(SALT_BYTES)),
      crypto.getRandomValues(new Uint8Array(HASH_BYTES)),
    );
    return dummy;
  };

  const verify = async (stored: string, password: string): Promise<PasswordVerification> => {
    const parsed = parsePhc(stored);
    if (!parsed) {
      // A marker no password verifies against (single sign-on's account, a password an administrator
      // voided) costs what a wrong password costs: a quick refusal would tell whoever holds the old
      // password that the account is in such a state.
      await verify(dummyHash(), password);
      return { ok: false, needsRehash: true };
    }
    let computed: Uint8Array;
    try {
      computed = await kdf(encoder.encode(password), parsed.salt, parsed.params, parsed.hash.length);
    } catch {
      return { ok: false, needsRehash: true };
    }
    const ok = timingSafeEqualBytes(computed, parsed.hash);
    const needsRehash =
      parsed.params.m !== current.m ||
      parsed.params.t !== current.t ||
      parsed.params.p !== current.p ||
      parsed.hash.length !== HASH_BYTES ||
      parsed.salt.length < SALT_BYTES;
    return { ok, needsRehash };
  };

  return {
    async hash(password) {
      const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
      const hash = await kdf(encoder.encode(password), salt, current, HASH_BYTES);
      return formatPhc(current, salt, hash);
    },
    verify,
    async verifyDummy(password) {
      await verify(dummyHash(), password);
    },
  };
}

/**
 * The password policy: at least 12 characters (Unicode code points) and at most
 * 1024 bytes of UTF-8, both of its NFC form (the text that is hashed). Returns null when the password is acceptable, else a
 * message for the client.
 *
 * @example
 * passwordProblem("short"); // "Password must be at least 12 characters."
 */
export function passwordProblem(password: string): string | null {
  const tooLong = "Password must be at most 1024 bytes of UTF-8.";
  // Every UTF-16 unit encodes to at least one byte, so a long string is refused before encoding it.
  if (password.length > MAX_PASSWORD_BYTES) return tooLong;
  // The text that is hashed (normalisedPasswords): a decomposed "ü" is one character, not two.
  const text = normalisePassword(password);
  let chars = 0;
  for (const _ of text) chars++;
  if (chars < MIN_PASSWORD_CHARS) return `Password must be at least ${MIN_PASSWORD_CHARS} characters.`;
  if (encoder.encode(text).length > MAX_PASSWORD_BYTES) return tooLong;
  return null;
}

function paramsProblem({ m, t, p }: Argon2Params): string | null {
  if (!Number.isInteger(p) || p < 1 || p > MAX_P) return `p must be an integer in 1..${MAX_P}`;
  if (!Number.isInteger(t) || t < 1 || t > MAX_T) return `t must be an integer in 1..${MAX_T}`;
  if (!Number.isInteger(m) || m < 8 * p || m > MAX_M) return `m must be an integer in ${8 * p}..${MAX_M} (KiB)`;
  return null;
}

function formatPhc(params: Argon2Params, salt: Uint8Array, hash: Uint8Array): string {
  return `$argon2id$v=19$m=${params.m},t=${params.t},p=${params.p}$${toBase64(salt)}$${toBase64(hash)}`;
}

function parsePhc(stored: string): ParsedHash | null {
  const match = PHC.exec(stored);
  if (!match) return null;
  const [, m, t, p, salt64, hash64] = match;
  if (m === undefined || t === undefined || p === undefined || salt64 === undefined || hash64 === undefined) {
    return null;
  }
  const params: Argon2Params = { m: Number(m), t: Number(t), p: Number(p) };
  if (paramsProblem(params)) return null;
  const salt = fromBase64(salt64);
  const hash = fromBase64(hash64);
  if (!salt || !hash) return null;
  if (salt.length < MIN_SALT_BYTES || salt.length > MAX_PHC_BYTES) return null;
  if (hash.length < MIN_HASH_BYTES || hash.length > MAX_PHC_BYTES) return null;
  return { params, salt, hash };
}

// PHC strings use the standard base64 alphabet without padding; it differs from
// base64url only in two characters, so the strict base64url codec does the work.
function toBase64(bytes: Uint8Array): string {
  return base64UrlEncode(bytes).replaceAll("-", "+").replaceAll("_", "/");
}

function fromBase64(text: string): Uint8Array | null {
  try {
    return base64UrlDecode(text.replaceAll("+", "-").replaceAll("/", "_"));
  } catch {
    return null;
  }
}
