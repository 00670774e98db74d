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
