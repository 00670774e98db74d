// The crypto core's behaviour, run in workerd (test/wasm/core.test.ts) and in Node
// (test/node/wasm.test.ts) against the JavaScript references: @noble/hashes and
// @noble/ciphers.
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { argon2id as nobleArgon2id } from "@noble/hashes/argon2.js";
import { blake2b as nobleBlake2b } from "@noble/hashes/blake2.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createCore } from "../../wasm/core";
import { rfc8439Suite } from "./suite-rfc8439";
import {
  blob,
  bytesFrom,
  coreUnderTest,
  expectBytes,
  fixed,
  flipBit,
  fromHex,
  largeBlob,
  type MakeCore,
  residue,
  text,
  toHex,
} from "./support";

export interface SuiteOptions {
  makeCore: MakeCore;
  /** Largest random input of the differential tests, in bytes. */
  maxBytes: number;
  /** fast-check runs per property: small inputs, inputs up to maxBytes, Argon2id parameter sets, tamperings. */
  runs: { small: number; large: number; argon2: number; tamper: number };
  /** Calls per operation in the memory-bound test. */
  leakCalls: number;
}

const SMALL = 1024;
// @noble needs ~25 ms per MiB for BLAKE2b and more for the AEAD; with 2 cores shared
// by two test workers the large differential runs take seconds.
const LARGE_TIMEOUT_MS = 60_000;
// One key and nonce reused by tests that vary something else.
const KEY = bytesFrom(1, 32);
const NONCE = bytesFrom(2, 24);

export function coreSuite(o: SuiteOptions): void {
  const { core } = coreUnderTest(o.makeCore);

  rfc8439Suite(o);

  describe("published vectors", () => {
    it("BLAKE2b-512('abc') (RFC 7693, appendix A)", () => {
      expect(toHex(core.blake2b(text("abc")))).toBe(
        "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
      );
    });

    it("keyed BLAKE2b-512 (blake2b-kat.txt: key 00..3f, inputs of 0 and 255 bytes)", () => {
      const key = Uint8Array.from({ length: 64 }, (_, i) => i);
      const input = Uint8Array.from({ length: 255 }, (_, i) => i);
      expect(toHex(core.blake2b(new Uint8Array(0), { key }))).toBe(
        "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568",
      );
      expect(toHex(core.blake2b(input, { key }))).toBe(
        "142709d62e28fcccd0af97fad0f8465b971e82201dc51070faa0372aa43e92484be1c1e73ba10906d5d1853db6a4106e0a7bf9800d373d6dee2d46d62ef2a461",
      );
    });

    it("XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03, A.3.1)", () => {
      const key = fromHex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
      const nonce = fromHex("404142434445464748494a4b4c4d4e4f5051525354555657");
      const ad = fromHex("50515253c0c1c2c3c4c5c6c7");
      const plaintext = text(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
      );
      const sealed = core.xchacha20poly1305Seal(key, nonce, plaintext, ad);
      expect(toHex(sealed)).toBe(
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e" +
          "c0875924c1c7987947deafd8780acf49",
      );
      expect(core.xchacha20poly1305Open(key, nonce, sealed, ad)).toEqual(plaintext);
    });

    it("Argon2id (phc-winner-argon2 src/test.c: 'password', 'somesalt')", () => {
      // RFC 9106's own vector uses a secret and associated data, which the core does not take.
      const cases: [number, number, number, string][] = [
        [256, 2, 1, "9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe"],
        [256, 2, 2, "6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037"],
        [65536, 2, 1, "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7"],
      ];
      for (const [m, t, p, hash] of cases) {
        expect(toHex(core.argon2id(text("password"), text("somesalt"), { m, t, p }, 32))).toBe(hash);
      }
    });
  });

  describe("differential: the same output as @noble", () => {
    const blake2bMatches = (message: Uint8Array, key: Uint8Array, outLen: number) => {
      const options = key.length > 0 ? { dkLen: outLen, key } : { dkLen: outLen };
      expectBytes(core.blake2b(message, { outLen, key }), nobleBlake2b(message, options));
    };
    const aeadMatches = (key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array) => {
      const sealed = core.xchacha20poly1305Seal(key, nonce, plaintext, ad);
      expectBytes(sealed, xchacha20poly1305(key, nonce, ad).encrypt(plaintext));
      expectBytes(core.xchacha20poly1305Open(key, nonce, sealed, ad), plaintext);
    };

    it(`BLAKE2b, random message (0..${SMALL} B), key (0..64 B) and digest length (1..64)`, () => {
      fc.assert(fc.property(blob(SMALL), blob(64), fc.integer({ min: 1, max: 64 }), blake2bMatches), {
        numRuns: o.runs.small,
      });
    });

    it(
      `BLAKE2b, random messages of 4 KiB to ${o.maxBytes} B`,
      () => {
        fc.assert(fc.property(largeBlob(o.maxBytes), blob(64), fc.integer({ min: 1, max: 64 }), blake2bMatches), {
          numRuns: o.runs.large,
        });
      },
      LARGE_TIMEOUT_MS,
    );

    it(`XChaCha20-Poly1305, random key, nonce, AD (0..300 B) and plaintext (0..${SMALL} B)`, () => {
      fc.assert(fc.property(fixed(32), fixed(24), blob(300), blob(SMALL), aeadMatches), { numRuns: o.runs.small });
    });

    it(
      `XChaCha20-Poly1305, random plaintexts of 4 KiB to ${o.maxBytes} B`,
      () => {
        fc.assert(fc.property(fixed(32), fixed(24), blob(300), largeBlob(o.maxBytes), aeadMatches), {
          numRuns: o.runs.large,
        });
      },
      LARGE_TIMEOUT_MS,
    );

    it("XChaCha20-Poly1305 opens what @noble sealed", () => {
      fc.assert(
        fc.property(fixed(32), fixed(24), blob(300), blob(SMALL), (key, nonce, ad, plaintext) => {
          const sealed = xchacha20poly1305(key, nonce, ad).encrypt(plaintext);
          expectBytes(core.xchacha20poly1305Open(key, nonce, sealed, ad), plaintext);
        }),
        { numRuns: o.runs.tamper },
      );
    });

    it("Argon2id, random small parameters, password, salt and output length", () => {
      const params = fc
        .record({ p: fc.integer({ min: 1, max: 4 }), t: fc.integer({ min: 1, max: 3 }), extra: fc.nat(256) })
        .map(({ p, t, extra }) => ({ p, t, m: 8 * p + extra }));
      fc.assert(
        fc.property(blob(128), blob(64, 8), params, fc.integer({ min: 4, max: 200 }), (password, salt, prm, outLen) => {
          const expected = nobleArgon2id(password, salt, { ...prm, dkLen: outLen, version: 0x13 });
          expectBytes(core.argon2id(password, salt, prm, outLen), expected);
        }),
        { numRuns: o.runs.argon2 },
      );
    });

    it("Argon2id at OWASP's parameters (m=19456, t=2, p=1)", () => {
      const params = { m: 19456, t: 2, p: 1 };
      const password = text("correct horse battery staple");
      const salt = bytesFrom(3, 16);
      const expected = nobleArgon2id(password, salt, { ...params, dkLen: 32, version: 0x13 });
      expect(core.argon2id(password, salt, params, 32)).toEqual(expected);
    });
  });

  describe("authentication", () => {
    const refused = (key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array) =>
      expect(() => core.xchacha20poly1305Open(key, nonce, sealed, ad)).toThrow(new Error("decryption failed"));

    it("refuses a flipped bit anywhere in ciphertext or tag, AD or nonce, and a wrong key", () => {
      fc.assert(
        fc.property(
          fixed(32),
          fixed(24),
          blob(64, 1),
          blob(SMALL),
          fc.nat(),
          fc.nat(7),
          (key, nonce, ad, plaintext, at, bit) => {
            const sealed = core.xchacha20poly1305Seal(key, nonce, plaintext, ad);
            refused(key, nonce, flipBit(sealed, at, bit), ad);
            refused(key, nonce, flipBit(sealed, sealed.length - 1 - (at % 16), bit), ad);
            refused(key, nonce, sealed, flipBit(ad, at, bit));
            refused(key, flipBit(nonce, at, bit), sealed, ad);
            refused(flipBit(key, at, bit), nonce, sealed, ad);
          },
        ),
        { numRuns: o.runs.tamper },
      );
    });

    it("refuses a missing, added or truncated AD and a truncated or extended message", () => {
      const sealed = core.xchacha20poly1305Seal(KEY, NONCE, text("attack at dawn"), text("tenant-1|email"));
      refused(KEY, NONCE, sealed, new Uint8Array(0));
      refused(KEY, NONCE, sealed, text("tenant-2|email"));
      refused(KEY, NONCE, sealed, text("tenant-1|email\0"));
      refused(KEY, NONCE, sealed.subarray(1), text("tenant-1|email"));
      refused(KEY, NONCE, sealed.subarray(0, sealed.length - 1), text("tenant-1|email"));
      const longer = new Uint8Array(sealed.length + 1);
      longer.set(sealed);
      refused(KEY, NONCE, longer, text("tenant-1|email"));
      expect(core.xchacha20poly1305Open(KEY, NONCE, sealed, text("tenant-1|email"))).toEqual(text("attack at dawn"));
    });

    it("seals and opens the empty message, and refuses its tag under another AD", () => {
      const sealed = core.xchacha20poly1305Seal(KEY, NONCE, new Uint8Array(0));
      expect(sealed.length).toBe(16);
      expect(core.xchacha20poly1305Open(KEY, NONCE, sealed)).toEqual(new Uint8Array(0));
      refused(KEY, NONCE, sealed, text("x"));
    });
  });

  describe("argument errors, raised before the core is touched", () => {
    // A core that has never been called: any instantiation would be recorded.
    const fresh = () => coreUnderTest(o.makeCore);

    it("names the wrong key or nonce size", () => {
      const t = fresh();
      const p = text("hi");
      expect(() => t.core.xchacha20poly1305Seal(new Uint8Array(31), NONCE, p)).toThrow("key must be 32 bytes, got 31");
      expect(() => t.core.xchacha20poly1305Seal(new Uint8Array(33), NONCE, p)).toThrow("key must be 32 bytes, got 33");
      expect(() => t.core.xchacha20poly1305Seal(KEY, new Uint8Array(12), p)).toThrow("nonce must be 24 bytes, got 12");
      expect(() => t.core.xchacha20poly1305Open(KEY, new Uint8Array(25), new Uint8Array(32))).toThrow(
        "nonce must be 24 bytes, got 25",
      );
      expect(() => t.core.xchacha20poly1305Open(new Uint8Array(0), NONCE, new Uint8Array(32))).toThrow(
        "key must be 32 bytes, got 0",
      );
      expect(() => t.core.xchacha20poly1305Open(KEY, NONCE, new Uint8Array(15))).toThrow(
        "sealed message must be at least 16 bytes (the tag), got 15",
      );
      expect(t.instances).toHaveLength(0);
    });

    it("refuses what is not a Uint8Array", () => {
      const t = fresh();
      const notBytes = "a string" as unknown as Uint8Array;
      expect(() => t.core.xchacha20poly1305Seal(KEY, NONCE, notBytes)).toThrow(TypeError);
      expect(() => t.core.xchacha20poly1305Seal(KEY, NONCE, text("x"), notBytes)).toThrow("ad must be a Uint8Array");
      expect(() => t.core.blake2b(notBytes)).toThrow("message must be a Uint8Array");
      expect(() => t.core.argon2id(notBytes, bytesFrom(1, 16), { m: 64, t: 1, p: 1 }, 32)).toThrow(
        "password must be a Uint8Array",
      );
      expect(t.instances).toHaveLength(0);
    });

    it("bounds BLAKE2b's digest and key lengths", () => {
      const t = fresh();
      const m = text("abc");
      expect(() => t.core.blake2b(m, { outLen: 0 })).toThrow("outLen must be an integer in 1..64, got 0");
      expect(() => t.core.blake2b(m, { outLen: 65 })).toThrow("outLen must be an integer in 1..64, got 65");
      expect(() => t.core.blake2b(m, { outLen: 1.5 })).toThrow(RangeError);
      expect(() => t.core.blake2b(m, { key: new Uint8Array(65) })).toThrow("key must be at most 64 bytes, got 65");
      expect(t.instances).toHaveLength(0);
    });

    it("bounds Argon2id's salt, parameters and output length", () => {
      const t = fresh();
      const pw = text("password");
      const salt = bytesFrom(1, 16);
      expect(() => t.core.argon2id(pw, new Uint8Array(7), { m: 64, t: 1, p: 1 }, 32)).toThrow(
        "salt must be at least 8 bytes, got 7",
      );
      expect(() => t.core.argon2id(pw, salt, { m: 15, t: 1, p: 2 }, 32)).toThrow("m must be an integer in 16..");
      expect(() => t.core.argon2id(pw, salt, { m: 64, t: 0, p: 1 }, 32)).toThrow("t must be an integer in 1..");
      expect(() => t.core.argon2id(pw, salt, { m: 64, t: 1, p: 0 }, 32)).toThrow("p must be an integer in 1..");
      expect(() => t.core.argon2id(pw, salt, { m: 64, t: 1, p: 1 }, 3)).toThrow("outLen must be an integer in 4..1024");
      expect(() => t.core.argon2id(pw, salt, { m: 64, t: 1, p: 1 }, 1025)).toThrow("outLen must be an integer in 4..");
      expect(t.instances).toHaveLength(0);
    });
  });

  describe("memory hygiene", () => {
    it("leaves no trace of keys, passwords, plaintexts or state in linear memory after any call", () => {
      const t = coreUnderTest(o.makeCore);
      // After one call of every operation (which sets up the arena), linear memory must
      // return to exactly this state after every call: stack and arena all zero again.
      const warmUp = () => {
        t.core.blake2b(new Uint8Array(8), { key: new Uint8Array(8) });
        const sealed = t.core.xchacha20poly1305Seal(new Uint8Array(32), new Uint8Array(24), new Uint8Array(8));
        t.core.xchacha20poly1305Open(new Uint8Array(32), new Uint8Array(24), sealed);
        expect(() =>
          t.core.xchacha20poly1305Open(new Uint8Array(32), new Uint8Array(24), new Uint8Array(16)),
        ).toThrow();
        t.core.argon2id(new Uint8Array(8), new Uint8Array(8), { m: 64, t: 1, p: 2 }, 32);
        t.core.chacha20(new Uint8Array(32), new Uint8Array(12), 0, new Uint8Array(8));
        t.core.poly1305(new Uint8Array(32), new Uint8Array(8));
      };
      warmUp();
      const snapshot = t.memory().slice();
      const clean = (what: string) => {
        expect(residue(snapshot, t.memory()), `residue after ${what}`).toBeNull();
      };
      fc.assert(
        fc.property(fixed(32), fixed(24), blob(64), blob(8192), fc.nat(), (key, nonce, ad, plaintext, at) => {
          const sealed = t.core.xchacha20poly1305Seal(key, nonce, plaintext, ad);
          clean("seal");
          t.core.xchacha20poly1305Open(key, nonce, sealed, ad);
          clean("open");
          expect(() => t.core.xchacha20poly1305Open(key, nonce, flipBit(sealed, at, 0), ad)).toThrow();
          clean("a refused open");
          t.core.blake2b(plaintext, { key: key, outLen: 1 + (at % 64) });
          clean("keyed blake2b");
          const p = 1 + (at % 3);
          t.core.argon2id(plaintext, key, { m: 8 * p + (at % 128), t: 1 + (at % 2), p }, 4 + (at % 60));
          clean("argon2id");
          t.core.chacha20(key, nonce.subarray(0, 12), at % 1000, plaintext);
          clean("chacha20");
          t.core.poly1305(key, plaintext);
          clean("poly1305");
        }),
        { numRuns: 8 },
      );
      expect(t.instances).toHaveLength(1);
    });

    it("does not grow across thousands of calls once it has grown for the largest", () => {
      const t = coreUnderTest(o.makeCore);
      const max = 4096;
      const big = bytesFrom(5, max);
      const sealedBig = t.core.xchacha20poly1305Seal(KEY, NONCE, big, big);
      t.core.xchacha20poly1305Open(KEY, NONCE, sealedBig, big);
      t.core.blake2b(big, { key: big.subarray(0, 64) });
      t.core.chacha20(KEY, NONCE.subarray(0, 12), 0, big);
      t.core.argon2id(big, big.subarray(0, 64), { m: 256, t: 1, p: 1 }, 64);
      const grown = t.memory().byteLength;
      for (let i = 0; i < o.leakCalls; i++) {
        const len = (i * 7919) % max;
        const msg = big.subarray(0, len);
        const ad = big.subarray(0, 1 + (len % 300));
        const sealed = t.core.xchacha20poly1305Seal(KEY, NONCE, msg, ad);
        t.core.xchacha20poly1305Open(KEY, NONCE, sealed, ad);
        expect(() => t.core.xchacha20poly1305Open(KEY, NONCE, sealed)).toThrow("decryption failed");
        t.core.blake2b(msg, { outLen: 1 + (i % 64) });
        t.core.chacha20(KEY, NONCE.subarray(0, 12), i, msg);
        t.core.poly1305(KEY, msg);
        if (i % 50 === 0) t.core.argon2id(msg, NONCE, { m: 8 + (i % 248), t: 1, p: 1 }, 4 + (i % 60));
      }
      expect(t.memory().byteLength).toBe(grown);
      expect(t.instances).toHaveLength(1);
    });

    it("returns copies: outputs are not views into linear memory and survive later calls", () => {
      const t = coreUnderTest(o.makeCore);
      const first = t.core.blake2b(text("first"));
      const firstHex = toHex(first);
      const sealed = t.core.xchacha20poly1305Seal(KEY, NONCE, text("plaintext"));
      const opened = t.core.xchacha20poly1305Open(KEY, NONCE, sealed);
      const stream = t.core.chacha20(KEY, NONCE.subarray(0, 12), 0, text("plaintext"));
      const tag = t.core.poly1305(KEY, text("plaintext"));
      t.core.blake2b(bytesFrom(9, 5000));
      for (const out of [first, sealed, opened, stream, tag]) {
        expect(out.buffer).not.toBe(t.memory().buffer);
        expect(out.byteOffset).toBe(0);
        expect(out.buffer.byteLength).toBe(out.length);
      }
      expect(toHex(first)).toBe(firstHex);
      expect(opened).toEqual(text("plaintext"));
    });

    it("does not modify its inputs", () => {
      const key = KEY.slice();
      const nonce = NONCE.slice();
      const plaintext = bytesFrom(11, 1000);
      const ad = bytesFrom(12, 40);
      const copies = [key, nonce, plaintext, ad].map((b) => b.slice());
      const sealed = core.xchacha20poly1305Seal(key, nonce, plaintext, ad);
      const sealedCopy = sealed.slice();
      core.xchacha20poly1305Open(key, nonce, sealed, ad);
      core.blake2b(plaintext, { key });
      core.argon2id(plaintext, ad, { m: 64, t: 1, p: 1 }, 32);
      core.chacha20(key, nonce.subarray(0, 12), 7, plaintext);
      core.poly1305(key, plaintext);
      expect([key, nonce, plaintext, ad]).toEqual(copies);
      expect(sealed).toEqual(sealedCopy);
    });

    it("after a trap, wipes the instance's memory and starts a fresh one", () => {
      const instances: WebAssembly.Instance[] = [];
      let trapNext = true;
      // The real core, with blake2b trapping once as a bug in the core would.
      const trapping = createCore(() => {
        const real = coreUnderTest(o.makeCore);
        real.core.blake2b(text("instantiate"));
        const instance = real.instances[0];
        if (!instance) throw new Error("no instance");
        instances.push(instance);
        const exports = instance.exports as Record<string, unknown>;
        const blake2b = exports.blake2b as (...args: number[]) => number;
        return {
          exports: {
            ...exports,
            blake2b: (...args: number[]) => {
              if (trapNext) {
                trapNext = false;
                // Leave a secret behind, as a trap midway would.
                new Uint8Array((exports.memory as WebAssembly.Memory).buffer).fill(0xee, 0, 4096);
                throw new WebAssembly.RuntimeError("unreachable");
              }
              return blake2b(...args);
            },
          },
        } as unknown as WebAssembly.Instance;
      });
      expect(() => trapping.blake2b(text("abc"))).toThrow(WebAssembly.RuntimeError);
      const first = instances[0];
      if (!first) throw new Error("no instance");
      expect(new Uint8Array((first.exports.memory as WebAssembly.Memory).buffer).every((b) => b === 0)).toBe(true);
      expect(toHex(trapping.blake2b(text("abc"), { outLen: 32 }))).toBe(
        toHex(nobleBlake2b(text("abc"), { dkLen: 32 })),
      );
      expect(instances).toHaveLength(2);
    });
  });
}
