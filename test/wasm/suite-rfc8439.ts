// ChaCha20 and Poly1305 on their own (RFC 8439), part of the crypto core's suite
// (test/wasm/suite.ts): the RFC's vectors, differential tests against @noble/ciphers
// (also of the AEAD at every length, through all the ways the core splits a message
// into 4- and 5-block passes), the counter boundary, and the core's own refusals below
// the wrapper.
import { poly1305 as noblePoly1305 } from "@noble/ciphers/_poly1305.js";
import {
  chacha20 as nobleChacha20,
  chacha20poly1305 as nobleChacha20Poly1305,
  xchacha20poly1305 as nobleXChaCha20Poly1305,
} from "@noble/ciphers/chacha.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SuiteOptions } from "./suite";
import {
  blob,
  bytesFrom,
  chachaBlock,
  concat,
  coreUnderTest,
  expectBytes,
  fixed,
  fromHex,
  largeBlob,
  text,
  toHex,
} from "./support";

const U32_MAX = 0xffff_ffff;
const SMALL = 1024;
const LARGE_TIMEOUT_MS = 60_000;
const SUNSCREEN =
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
const JABBERWOCKY =
  "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe.";
const IETF_TEXT =
  'Any submission to the IETF intended by the Contributor for publication as all or part of an IETF Internet-Draft or RFC and any statement made within the context of an IETF activity is considered an "IETF Contribution". Such statements include oral statements in IETF sessions, as well as written and electronic communications made at any time or place, which are addressed to';
const zeros = (n: number) => new Uint8Array(n);
const counting = (n: number, from = 0) => Uint8Array.from({ length: n }, (_, i) => from + i);

/** A counter in 0..1 (by `r`) of the range where no block of `len` bytes passes 2^32-2 (@noble's limit). */
const counterFor = (len: number, r: number) => Math.floor(r * (U32_MAX - Math.max(1, Math.ceil(len / 64))));

export function rfc8439Suite(o: SuiteOptions): void {
  const { core } = coreUnderTest(o.makeCore);

  describe("RFC 8439 vectors", () => {
    it("ChaCha20 encryption of the sunscreen text (section 2.4.2), and back", () => {
      const key = counting(32);
      const nonce = fromHex("000000000000004a00000000");
      const ciphertext = core.chacha20(key, nonce, 1, text(SUNSCREEN));
      expect(toHex(ciphertext)).toBe(
        "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d",
      );
      expect(core.chacha20(key, nonce, 1, ciphertext)).toEqual(text(SUNSCREEN));
    });

    it("ChaCha20 block function (A.1 #1..#5) and Poly1305 key generation (2.6.2, A.4 #1..#3)", () => {
      const k1 = fromHex("0000000000000000000000000000000000000000000000000000000000000001");
      const kff = fromHex("00ff000000000000000000000000000000000000000000000000000000000000");
      const kj = fromHex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
      const n2 = fromHex("000000000000000000000002");
      const cases: [Uint8Array, Uint8Array, number, number, string][] = [
        [
          zeros(32),
          zeros(12),
          0,
          64,
          "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586",
        ],
        [
          zeros(32),
          zeros(12),
          1,
          64,
          "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f",
        ],
        [
          k1,
          zeros(12),
          1,
          64,
          "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0",
        ],
        [
          kff,
          zeros(12),
          2,
          64,
          "72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f4872e99f096",
        ],
        [
          zeros(32),
          n2,
          0,
          64,
          "c2c64d378cd536374ae204b9ef933fcd1a8b2288b3dfa49672ab765b54ee27c78a970e0e955c14f3a88e741b97c286f75f8fc299e8148362fa198a39531bed6d",
        ],
        [
          counting(32, 0x80),
          fromHex("000000000001020304050607"),
          0,
          32,
          "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646",
        ],
        [zeros(32), zeros(12), 0, 32, "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"],
        [k1, n2, 0, 32, "ecfa254f845f647473d3cb140da9e87606cb33066c447b87bc2666dde3fbb739"],
        [kj, n2, 0, 32, "965e3bc6f9ec7ed9560808f4d229f94b137ff275ca9b3fcbdd59deaad23310ae"],
      ];
      for (const [key, nonce, counter, len, keystream] of cases) {
        expect(toHex(core.chacha20(key, nonce, counter, zeros(len)))).toBe(keystream);
      }
    });

    it("ChaCha20 encryption of the Jabberwocky at counter 42 (A.2 #3)", () => {
      const key = fromHex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
      expect(toHex(core.chacha20(key, fromHex("000000000000000000000002"), 42, text(JABBERWOCKY)))).toBe(
        "62e6347f95ed87a45ffae7426f27a1df5fb69110044c0d73118effa95b01e5cf166d3df2d721caf9b21e5fb14c616871fd84c54f9d65b283196c7fe4f60553ebf39c6402c42234e32a356b3e764312a61a5532055716ead6962568f87d3f3f7704c6a8d1bcd1bf4d50d6154b6da731b187b58dfd728afa36757a797ac188d1",
      );
    });

    it("Poly1305 (section 2.5.2 and A.3 #1..#11, among them the carry and reduction edge cases)", () => {
      const r1 = fromHex("01".padEnd(64, "0"));
      const r2 = fromHex("02".padEnd(64, "0"));
      const k10 = fromHex("0100000000000000040000000000000000000000000000000000000000000000");
      const ff = "ffffffffffffffffffffffffffffffff";
      const cases: [string, Uint8Array, string][] = [
        [
          "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
          text("Cryptographic Forum Research Group"),
          "a8061dc1305136c6c22b8baf0c0127a9",
        ],
        ["00".repeat(32), zeros(64), "00000000000000000000000000000000"],
        [`${"00".repeat(16)}36e5f6b5c5e06070f0efca96227a863e`, text(IETF_TEXT), "36e5f6b5c5e06070f0efca96227a863e"],
        [`36e5f6b5c5e06070f0efca96227a863e${"00".repeat(16)}`, text(IETF_TEXT), "f3477e7cd95417af89a6b8794c310cf0"],
        [
          "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0",
          text(JABBERWOCKY),
          "4541669a7eaaee61e708dc7cbcc5eb62",
        ],
        [toHex(r2), fromHex(ff), "03000000000000000000000000000000"],
        [`02${"00".repeat(15)}${ff}`, fromHex(`02${"00".repeat(15)}`), "03000000000000000000000000000000"],
        [
          toHex(r1),
          fromHex(`${ff}f0ffffffffffffffffffffffffffffff11${"00".repeat(15)}`),
          "05000000000000000000000000000000",
        ],
        [
          toHex(r1),
          fromHex(`${ff}fbfefefefefefefefefefefefefefefe${"01".repeat(16)}`),
          "00000000000000000000000000000000",
        ],
        [toHex(r2), fromHex(`fd${"ff".repeat(15)}`), "faffffffffffffffffffffffffffffff"],
        [
          toHex(k10),
          fromHex(`e33594d7505e43b9${"00".repeat(8)}3394d7505e4379cd01${"00".repeat(23)}01${"00".repeat(15)}`),
          "14000000000000005500000000000000",
        ],
        [
          toHex(k10),
          fromHex(`e33594d7505e43b9${"00".repeat(8)}3394d7505e4379cd01${"00".repeat(23)}`),
          "13000000000000000000000000000000",
        ],
      ];
      for (const [key, message, tag] of cases) expect(toHex(core.poly1305(fromHex(key), message))).toBe(tag);
    });

    it("AEAD_CHACHA20_POLY1305 (section 2.8.2) composed from chacha20 and poly1305", () => {
      const key = counting(32, 0x80);
      const nonce = fromHex("070000004041424344454647");
      const ad = fromHex("50515253c0c1c2c3c4c5c6c7");
      const ciphertext = core.chacha20(key, nonce, 1, text(SUNSCREEN));
      const pad16 = (n: number) => zeros((16 - (n % 16)) % 16);
      const lengths = new Uint8Array(16);
      new DataView(lengths.buffer).setBigUint64(0, BigInt(ad.length), true);
      new DataView(lengths.buffer).setBigUint64(8, BigInt(ciphertext.length), true);
      const macData = concat(ad, pad16(ad.length), ciphertext, pad16(ciphertext.length), lengths);
      const tag = core.poly1305(core.chacha20(key, nonce, 0, zeros(32)), macData);
      const expected =
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116" +
        "1ae10b594f09e26a7e902ecbd0600691";
      expect(toHex(concat(ciphertext, tag))).toBe(expected);
      // The same construction as @noble's (the XChaCha20-Poly1305 tests cover the core's AEAD).
      expect(toHex(nobleChacha20Poly1305(key, nonce, ad).encrypt(text(SUNSCREEN)))).toBe(expected);
    });
  });

  describe("ChaCha20 and Poly1305: the same output as @noble", () => {
    const chachaMatches = (key: Uint8Array, nonce: Uint8Array, r: number, data: Uint8Array) => {
      const counter = counterFor(data.length, r);
      expectBytes(core.chacha20(key, nonce, counter, data), nobleChacha20(key, nonce, data, undefined, counter));
    };
    const unit = fc.double({ min: 0, max: 1, noNaN: true });

    it(`ChaCha20, random key, nonce, counter and data (0..${SMALL} B)`, () => {
      fc.assert(fc.property(fixed(32), fixed(12), unit, blob(SMALL), chachaMatches), { numRuns: o.runs.small });
    });

    it("ChaCha20 at every length from 0 to 1,344 bytes (21 blocks: all splits into passes)", () => {
      const key = bytesFrom(21, 32);
      const nonce = bytesFrom(22, 12);
      const data = bytesFrom(23, 1344);
      for (let len = 0; len <= data.length; len++) {
        const d = data.subarray(0, len);
        expectBytes(core.chacha20(key, nonce, len, d), nobleChacha20(key, nonce, d, undefined, len));
      }
    });

    it("XChaCha20-Poly1305 at every length from 0 to 1,600 bytes (the first 192 in the key pass, then 22 blocks)", () => {
      const key = bytesFrom(24, 32);
      const nonce = bytesFrom(25, 24);
      const data = bytesFrom(26, 1600);
      for (let len = 0; len <= data.length; len++) {
        const d = data.subarray(0, len);
        const ad = data.subarray(0, len % 37);
        const sealed = core.xchacha20poly1305Seal(key, nonce, d, ad);
        expectBytes(sealed, nobleXChaCha20Poly1305(key, nonce, ad).encrypt(d));
        expectBytes(core.xchacha20poly1305Open(key, nonce, sealed, ad), d);
      }
    });

    it(
      `ChaCha20, random data of 4 KiB to ${o.maxBytes} B`,
      () => {
        fc.assert(fc.property(fixed(32), fixed(12), unit, largeBlob(o.maxBytes), chachaMatches), {
          numRuns: o.runs.large,
        });
      },
      LARGE_TIMEOUT_MS,
    );

    it("ChaCha20 up to the last block counter, 2^32-1, and not past it", () => {
      const key = bytesFrom(31, 32);
      const nonce = bytesFrom(32, 12);
      const data = bytesFrom(33, 330);
      // The plain-JS block agrees with @noble where @noble goes...
      for (const counter of [0, 1, 0x7fff_ffff, 0x8000_0000, U32_MAX - 1]) {
        expectBytes(chachaBlock(key, nonce, counter), nobleChacha20(key, nonce, zeros(64), undefined, counter));
      }
      // ...and stands in for it on the block @noble refuses.
      const last = chachaBlock(key, nonce, U32_MAX);
      expectBytes(core.chacha20(key, nonce, U32_MAX, zeros(64)), last);
      expectBytes(core.chacha20(key, nonce, U32_MAX, zeros(5)), last.subarray(0, 5));
      const lastTwo = concat(chachaBlock(key, nonce, U32_MAX - 1), last);
      expectBytes(core.chacha20(key, nonce, U32_MAX - 1, zeros(128)), lastTwo);
      expect(core.chacha20(key, nonce, U32_MAX, new Uint8Array(0))).toEqual(new Uint8Array(0));
      expect(() => core.chacha20(key, nonce, U32_MAX, zeros(65))).toThrow(RangeError);
      expect(() => core.chacha20(key, nonce, U32_MAX - 1, zeros(129))).toThrow("would pass the last block counter");
      // Six blocks from 2^32-5 would need a seventh counter; five end exactly on 2^32-1.
      expect(() => core.chacha20(key, nonce, U32_MAX - 4, data)).toThrow(RangeError);
      const five = data.subarray(0, 320);
      expectBytes(core.chacha20(key, nonce, U32_MAX - 4, five), xorAll(five, key, nonce));
    });

    it(`Poly1305, random key and message (0..${SMALL} B)`, () => {
      fc.assert(
        fc.property(fixed(32), blob(SMALL), (key, message) => {
          expectBytes(core.poly1305(key, message), noblePoly1305(message, key));
        }),
        { numRuns: o.runs.small },
      );
    });

    it(
      `Poly1305, random messages of 4 KiB to ${o.maxBytes} B`,
      () => {
        fc.assert(
          fc.property(fixed(32), largeBlob(o.maxBytes), (key, message) => {
            expectBytes(core.poly1305(key, message), noblePoly1305(message, key));
          }),
          { numRuns: o.runs.large },
        );
      },
      LARGE_TIMEOUT_MS,
    );
  });

  describe("ChaCha20 and Poly1305 argument errors, raised before the core is touched", () => {
    it("names the wrong key, nonce or counter", () => {
      const t = coreUnderTest(o.makeCore);
      const key = bytesFrom(1, 32);
      const nonce = bytesFrom(2, 12);
      const d = text("data");
      expect(() => t.core.chacha20(new Uint8Array(31), nonce, 0, d)).toThrow("key must be 32 bytes, got 31");
      expect(() => t.core.chacha20(key, new Uint8Array(24), 0, d)).toThrow("nonce must be 12 bytes, got 24");
      for (const counter of [-1, 1.5, 2 ** 32, Number.NaN]) {
        expect(() => t.core.chacha20(key, nonce, counter, d)).toThrow("counter must be an integer in 0..4294967295");
      }
      expect(() => t.core.chacha20(key, nonce, 0, "data" as unknown as Uint8Array)).toThrow(
        "data must be a Uint8Array",
      );
      expect(() => t.core.poly1305(new Uint8Array(16), d)).toThrow("key must be 32 bytes, got 16");
      expect(() => t.core.poly1305(key, [1, 2] as unknown as Uint8Array)).toThrow("message must be a Uint8Array");
      expect(t.instances).toHaveLength(0);
    });
  });

  describe("the core's own checks, below the wrapper", () => {
    it("refuses a counter past 2^32-1 and a failed open without writing the output", () => {
      const t = coreUnderTest(o.makeCore);
      t.core.poly1305(zeros(32), zeros(1));
      const instance = t.instances[0];
      if (!instance) throw new Error("no instance");
      const x = instance.exports as Record<string, (...args: number[]) => number>;
      const alloc = (n: number) => (x.arena_alloc?.(n) ?? 0) >>> 0;
      const reset = () => x.arena_reset?.();
      // chacha20(key, nonce, 2^32-1, 65 bytes): two blocks from the last counter.
      let base = alloc(32 + 12 + 65 + 65);
      const mem = () => t.memory();
      mem().set(bytesFrom(41, 32 + 12 + 65), base);
      expect(x.chacha20?.(base, base + 32, U32_MAX, base + 44, 65, base + 109)).toBe(-1);
      expect(
        mem()
          .subarray(base + 109, base + 174)
          .every((b) => b === 0),
      ).toBe(true);
      expect(x.chacha20?.(base, base + 32, U32_MAX, base + 44, 64, base + 109)).toBe(0);
      reset();
      // xchacha20poly1305_open with a wrong tag: -2 and the output left as it was (zero).
      const key = bytesFrom(42, 32);
      const nonce = bytesFrom(43, 24);
      const sealed = t.core.xchacha20poly1305Seal(key, nonce, bytesFrom(44, 700));
      sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
      base = alloc(56 + sealed.length + 700);
      mem().set(key, base);
      mem().set(nonce, base + 32);
      mem().set(sealed, base + 56);
      const out = base + 56 + sealed.length;
      expect(x.xchacha20poly1305_open?.(base, base + 32, 0, 0, base + 56, sealed.length, out)).toBe(-2);
      expect(
        mem()
          .subarray(out, out + 700)
          .every((b) => b === 0),
      ).toBe(true);
      // A pointer outside the arena is refused too.
      expect(x.poly1305?.(base, 8, 16, out)).toBe(-1);
      reset();
    });
  });
}

/** `data` xored with the keystream of blocks 2^32-5 .. 2^32-1, from the plain-JS block. */
function xorAll(data: Uint8Array, key: Uint8Array, nonce: Uint8Array): Uint8Array {
  const out = data.slice();
  for (let b = 0; b * 64 < out.length; b++) {
    const block = chachaBlock(key, nonce, U32_MAX - 4 + b);
    for (let i = 0; i < 64 && b * 64 + i < out.length; i++) out[b * 64 + i] = (out[b * 64 + i] ?? 0) ^ (block[i] ?? 0);
  }
  return out;
}
