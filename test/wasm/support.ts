// Helpers for the crypto core's tests, shared by the workerd and Node suites.
import fc from "fast-check";
import { expect } from "vitest";
import type { CryptoCore } from "../../wasm/core";

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `len` pseudo-random bytes from `seed` (xorshift32): cheap at 1 MiB and reproducible from fast-check's seed. */
export function bytesFrom(seed: number, len: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(len / 4));
  let s = seed | 0 || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    words[i] = s >>> 0;
  }
  return new Uint8Array(words.buffer, 0, len);
}

/**
 * Random byte strings of random sizes from 0 to `max`, most of them small (where
 * padding and block boundaries are) and some up to `max`.
 */
export function blob(max: number, min = 0): fc.Arbitrary<Uint8Array> {
  const size = fc.oneof(
    { arbitrary: fc.integer({ min, max: Math.max(min, Math.min(max, 300)) }), weight: 3 },
    { arbitrary: fc.integer({ min, max: Math.max(min, Math.min(max, 4096)) }), weight: 2 },
    { arbitrary: fc.integer({ min, max }), weight: 1 },
  );
  return fc.tuple(size, fc.integer()).map(([len, seed]) => bytesFrom(seed, len));
}

/** Random byte strings from 4 KiB to `max` bytes, `max` itself among the likely ones. */
export function largeBlob(max: number): fc.Arbitrary<Uint8Array> {
  const size = fc.oneof(fc.integer({ min: 4097, max }), fc.constant(max));
  return fc.tuple(size, fc.integer()).map(([len, seed]) => bytesFrom(seed, len));
}

/** Exactly `len` random bytes. */
export const fixed = (len: number): fc.Arbitrary<Uint8Array> => blob(len, len);

/** A copy of `bytes` with one bit flipped at `index` (modulo its length). */
export function flipBit(bytes: Uint8Array, index: number, bit: number): Uint8Array {
  const out = bytes.slice();
  const at = index % out.length;
  out[at] = (out[at] ?? 0) ^ (1 << (bit & 7));
  return out;
}

/** The core under test, with the instances it made (to look at their linear memory). */
export interface CoreUnderTest {
  core: CryptoCore;
  instances: WebAssembly.Instance[];
  /** The linear memory of the latest instance. */
  memory(): Uint8Array;
}

export type MakeCore = (onInstance: (instance: WebAssembly.Instance) => void) => CryptoCore;

export function coreUnderTest(make: MakeCore): CoreUnderTest {
  const instances: WebAssembly.Instance[] = [];
  const core = make((instance) => instances.push(instance));
  return {
    core,
    instances,
    memory() {
      const latest = instances.at(-1);
      if (!latest) throw new Error("the core has not been instantiated yet");
      return new Uint8Array((latest.exports.memory as WebAssembly.Memory).buffer);
    },
  };
}

/**
 * Where `now` differs from `before` (over `before`'s length) or is non-zero beyond it:
 * the first offset and the count, or null when identical.
 */
export function residue(before: Uint8Array, now: Uint8Array): { first: number; count: number } | null {
  let first = -1;
  let count = 0;
  for (let i = 0; i < now.length; i++) {
    const expected = i < before.length ? before[i] : 0;
    if (now[i] !== expected) {
      if (first < 0) first = i;
      count++;
    }
  }
  return first < 0 ? null : { first, count };
}

/**
 * Asserts byte equality. Vitest's deep equality walks typed arrays element by element
 * with diffing machinery, which takes seconds at 1 MiB; this compares first and only
 * builds a readable failure when they differ.
 */
export function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  let differs = actual.length !== expected.length;
  for (let i = 0; !differs && i < actual.length; i++) differs = actual[i] !== expected[i];
  if (!differs) return;
  let at = 0;
  while (at < actual.length && actual[at] === expected[at]) at++;
  const around = (b: Uint8Array) => toHex(b.subarray(Math.max(0, at - 8), at + 24));
  expect({ length: actual.length, firstDifference: at, around: around(actual) }).toEqual({
    length: expected.length,
    firstDifference: at,
    around: around(expected),
  });
}

/** The concatenation of `parts`. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * One ChaCha20 block (RFC 8439 section 2.3) in plain JavaScript, for the one block
 * @noble refuses to compute: counter 2^32-1 (it stops one block short of the wrap).
 * Checked against @noble on random inputs where both apply.
 */
export function chachaBlock(key: Uint8Array, nonce: Uint8Array, counter: number): Uint8Array {
  const word = (b: Uint8Array, i: number) =>
    ((b[i] ?? 0) | ((b[i + 1] ?? 0) << 8) | ((b[i + 2] ?? 0) << 16) | ((b[i + 3] ?? 0) << 24)) >>> 0;
  const init = new Uint32Array(16);
  init.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
  for (let i = 0; i < 8; i++) init[4 + i] = word(key, 4 * i);
  init[12] = counter;
  for (let i = 0; i < 3; i++) init[13 + i] = word(nonce, 4 * i);
  const x = init.slice();
  const rotl = (v: number, n: number) => (v << n) | (v >>> (32 - n));
  const quarter = (a: number, b: number, c: number, d: number) => {
    const at = (i: number) => x[i] ?? 0;
    x[a] = at(a) + at(b);
    x[d] = rotl(at(d) ^ at(a), 16);
    x[c] = at(c) + at(d);
    x[b] = rotl(at(b) ^ at(c), 12);
    x[a] = at(a) + at(b);
    x[d] = rotl(at(d) ^ at(a), 8);
    x[c] = at(c) + at(d);
    x[b] = rotl(at(b) ^ at(c), 7);
  };
  for (let round = 0; round < 10; round++) {
    quarter(0, 4, 8, 12);
    quarter(1, 5, 9, 13);
    quarter(2, 6, 10, 14);
    quarter(3, 7, 11, 15);
    quarter(0, 5, 10, 15);
    quarter(1, 6, 11, 12);
    quarter(2, 7, 8, 13);
    quarter(3, 4, 9, 14);
  }
  const out = new Uint8Array(64);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 16; i++) view.setUint32(4 * i, ((x[i] ?? 0) + (init[i] ?? 0)) >>> 0, true);
  return out;
}
