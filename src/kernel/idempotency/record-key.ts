import { hash } from "../crypto/hash";
import { toHex } from "../crypto/tokens";

/** The longest record key the IdempotencyStore's contract takes (contract.ts, `Key`). */
export const RECORD_KEY_MAX = 600;

const encoder = new TextEncoder();

/**
 * The key under which a request's record is kept: method, path and the client's key. A path
 * is as long as the client makes it (an id of thousands of characters reaches the route, which
 * answers 404), so one that would push the key past what the store takes is kept as its
 * BLAKE2b-256 instead. Every key that fits stays as it was, so records written before this rule
 * still replay; a digest starts `blake2b:`, which no path (always `/…`) does, so the two
 * spellings never meet.
 *
 * @example
 * idempotencyRecordKey("POST", "/api/v1/blog/posts", "k1"); // "POST /api/v1/blog/posts k1"
 */
export function idempotencyRecordKey(method: string, path: string, header: string): string {
  const plain = `${method} ${path} ${header}`;
  if (plain.length <= RECORD_KEY_MAX) return plain;
  return `${method} blake2b:${toHex(hash.blake2b(encoder.encode(path), { outLen: 32 }))} ${header}`;
}
