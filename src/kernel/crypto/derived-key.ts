import { hash } from "./hash";

const encoder = new TextEncoder();

/**
 * A 32-byte key for one purpose, derived from a deployment secret (keyed BLAKE2b of the secret
 * under `label`), so that one secret (`IP_HASH_KEY`, `PLATFORM_ROOT_KEY`) can key several
 * digests without any two of them being comparable. The answer is a function of the secret,
 * which keeps the last key it derived per isolate (the secret changes only with a deploy).
 *
 * @example
 * const ipKey = derivedKey("plinth ip hash");
 * hash.blake2b(data, { key: ipKey(secret), outLen: 16 });
 */
export function derivedKey(label: string): (secret: string) => Uint8Array {
  const context = encoder.encode(label);
  let last: { secret: string; key: Uint8Array } | undefined;
  return (secret) => {
    if (last?.secret !== secret)
      last = { secret, key: hash.blake2b(encoder.encode(secret), { key: context, outLen: 32 }) };
    return last.key;
  };
}
