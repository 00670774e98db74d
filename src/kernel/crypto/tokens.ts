import { systemClock } from "../clock";

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const MAX_TIME = 2 ** 48 - 1;
// crypto.getRandomValues refuses more than 65536 bytes per call.
const MAX_TOKEN_BYTES = 65536;

const DECODE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < BASE64URL.length; i++) table[BASE64URL.charCodeAt(i)] = i;
  return table;
})();

const encoder = new TextEncoder();

/**
 * Cryptographically random bytes as base64url without padding.
 *
 * @example
 * randomToken(); // 43 characters, 256 bits
 */
export function randomToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 16 || bytes > MAX_TOKEN_BYTES) {
    throw new RangeError(`randomToken needs 16..${MAX_TOKEN_BYTES} bytes, got ${bytes}`);
  }
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * Lower-case hex SHA-256 of the UTF-8 string.
 *
 * @example
 * await sha256Hex("abc"); // "ba7816bf…f20015ad"
 */
export async function sha256Hex(input: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(input))));
}

// Every byte's two digits, once: toHex runs on every request (API key and IP hashes).
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += HEX[byte];
  return hex;
}

/**
 * Constant-time equality of two byte arrays. Different lengths return false,
 * after the same work as comparing `a` with itself, so only the length leaks.
 */
export function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  const sameLength = a.byteLength === b.byteLength;
  const other = sameLength ? b : a;
  // workerd has a native constant-time compare; Node 20's WebCrypto does not.
  const subtle: Partial<Pick<SubtleCrypto, "timingSafeEqual">> = crypto.subtle;
  let equal: boolean;
  if (typeof subtle.timingSafeEqual === "function") {
    equal = subtle.timingSafeEqual.call(crypto.subtle, a, other);
  } else {
    let diff = 0;
    for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (other[i] ?? 0);
    equal = diff === 0;
  }
  return sameLength && equal;
}

/**
 * Constant-time string equality over the UTF-8 bytes, for secrets such as
 * API keys and signatures. Only the length can leak through timing.
 *
 * @example
 * timingSafeEqual(presented, expected);
 */
export function timingSafeEqual(a: string, b: string): boolean {
  return timingSafeEqualBytes(encoder.encode(a), encoder.encode(b));
}

/**
 * Base64url (RFC 4648 §5) without padding.
 *
 * @example
 * base64UrlEncode(new Uint8Array([0xfb, 0xff])); // "-_8"
 */
export function base64UrlEncode(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += sextet(n >> 18) + sextet(n >> 12) + sextet(n >> 6) + sextet(n);
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] ?? 0) << 16;
    out += sextet(n >> 18) + sextet(n >> 12);
  } else if (rest === 2) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += sextet(n >> 18) + sextet(n >> 12) + sextet(n >> 6);
  }
  return out;
}

/**
 * Decodes base64url without padding. Throws on any character outside the
 * alphabet (including `+`, `/`, `=` and whitespace), on an impossible length,
 * and on non-zero trailing bits, so every byte string has exactly one accepted
 * encoding — tokens compared as strings cannot be varied.
 */
export function base64UrlDecode(text: string): Uint8Array {
  if (text.length % 4 === 1) throw new TypeError("invalid base64url: impossible length");
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let pos = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (DECODE[code] ?? -1) : -1;
    if (value < 0) throw new TypeError(`invalid base64url: unexpected character at ${i}`);
    buffer = ((buffer << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[pos++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) throw new TypeError("invalid base64url: non-zero trailing bits");
  return out;
}

/** What {@link newId} makes: 26 characters of Crockford base32 (upper case). */
export const NEW_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Whether `id` has the shape of one {@link newId} makes (a cheap check before a lookup). */
export const isNewId = (id: string): boolean => NEW_ID_PATTERN.test(id);

/**
 * A time-ordered unique id: 26 characters of Crockford base32, a 48-bit
 * millisecond timestamp then 80 random bits (the ULID layout). Ids sort by
 * creation time as strings; ids made within the same millisecond are in
 * random order among themselves.
 *
 * @example
 * newId(); // "01J9Z3K4TQ8V6W2M1N5P7R9S0T"
 */
export function newId(now: number = systemClock.now().getTime()): string {
  if (!Number.isInteger(now) || now < 0 || now > MAX_TIME) throw new RangeError(`newId: invalid timestamp ${now}`);
  let time = "";
  let t = now;
  // 10 characters carry 50 bits; the top two are always zero for a 48-bit time.
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD.charAt(t % 32) + time;
    t = Math.floor(t / 32);
  }
  const random = crypto.getRandomValues(new Uint8Array(10));
  let rand = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of random) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      rand += CROCKFORD.charAt((buffer >> bits) & 31);
    }
  }
  return time + rand;
}

function sextet(n: number): string {
  return BASE64URL.charAt(n & 63);
}
