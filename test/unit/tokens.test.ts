import { describe, expect, it } from "vitest";
import {
  base64UrlDecode,
  base64UrlEncode,
  newId,
  randomToken,
  sha256Hex,
  timingSafeEqual,
  timingSafeEqualBytes,
} from "../../src/kernel/crypto";

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe("randomToken", () => {
  it("encodes 32 bytes by default as 43 base64url characters", () => {
    const token = randomToken();
    expect(token).toMatch(BASE64URL);
    expect(token).toHaveLength(43);
    expect(base64UrlDecode(token)).toHaveLength(32);
  });

  it("honours the byte count", () => {
    expect(randomToken(16)).toHaveLength(22);
    expect(randomToken(48)).toHaveLength(64);
  });

  it("never repeats", () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => randomToken(16)));
    expect(tokens.size).toBe(1000);
  });

  it("refuses fewer than 16 bytes (and nonsense counts)", () => {
    for (const bytes of [15, 0, -1, 16.5, Number.NaN]) expect(() => randomToken(bytes)).toThrow(RangeError);
  });
});

describe("sha256Hex", () => {
  it("matches the FIPS 180-2 vectors", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("hashes the UTF-8 bytes", async () => {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array([0xc3, 0xa9])));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    expect(await sha256Hex("\u00e9")).toBe(hex);
  });
});

describe("timingSafeEqual", () => {
  it("is true only for identical strings", () => {
    expect(timingSafeEqual("plk_live_abc", "plk_live_abc")).toBe(true);
    expect(timingSafeEqual("plk_live_abc", "plk_live_abd")).toBe(false);
    expect(timingSafeEqual("Xlk_live_abc", "plk_live_abc")).toBe(false);
  });

  it("is false for different lengths, either way round", () => {
    expect(timingSafeEqual("secret", "secret!")).toBe(false);
    expect(timingSafeEqual("secret!", "secret")).toBe(false);
    expect(timingSafeEqual("", "x")).toBe(false);
  });

  it("handles empty strings", () => {
    expect(timingSafeEqual("", "")).toBe(true);
  });

  it("compares UTF-8 bytes, not UTF-16 units", () => {
    expect(timingSafeEqual("pässwörd🔑", "pässwörd🔑")).toBe(true);
    expect(timingSafeEqual("pässwörd🔑", "pässwörd🔒")).toBe(false);
    // same UTF-16 length (1), different UTF-8 lengths (2 and 3)
    expect(timingSafeEqual("é", "€")).toBe(false);
  });

  it("compares byte arrays", () => {
    expect(timingSafeEqualBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqualBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(timingSafeEqualBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))).toBe(false);
  });
});

describe("base64url", () => {
  it("matches the RFC 4648 vectors (url alphabet, no padding)", () => {
    const ascii = (s: string) => new TextEncoder().encode(s);
    const vectors: [string, string][] = [
      ["", ""],
      ["f", "Zg"],
      ["fo", "Zm8"],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg"],
      ["fooba", "Zm9vYmE"],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [plain, encoded] of vectors) {
      expect(base64UrlEncode(ascii(plain))).toBe(encoded);
      expect(base64UrlDecode(encoded)).toEqual(ascii(plain));
    }
    expect(base64UrlEncode(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe("-_-_");
  });

  it("round-trips every byte value at lengths 0 to 5", () => {
    for (let length = 0; length <= 5; length++) {
      for (let start = 0; start < 256; start += 7) {
        const bytes = Uint8Array.from({ length }, (_, i) => (start + i * 97) & 0xff);
        expect(base64UrlDecode(base64UrlEncode(bytes))).toEqual(bytes);
      }
    }
    const random = crypto.getRandomValues(new Uint8Array(1000));
    expect(base64UrlDecode(base64UrlEncode(random))).toEqual(random);
  });

  it("rejects the standard alphabet, padding, whitespace and other characters", () => {
    for (const bad of ["a+b/", "ab+c", "ab/c", "Zg==", "Zm8=", "Zm 9v", "Zm9v\n", "Zm9v!", "Zm9vé", "ab\u0000c"]) {
      expect(() => base64UrlDecode(bad), bad).toThrow(TypeError);
    }
  });

  it("rejects impossible lengths and non-canonical trailing bits", () => {
    expect(() => base64UrlDecode("a")).toThrow(TypeError);
    expect(() => base64UrlDecode("Zm9vY")).toThrow(TypeError);
    // "Zh" and "Zm9" carry stray low bits: they would decode to "f" and "fo" if accepted
    expect(() => base64UrlDecode("Zh")).toThrow(TypeError);
    expect(() => base64UrlDecode("Zm9")).toThrow(TypeError);
  });
});

describe("newId", () => {
  it("is 26 characters of Crockford base32", () => {
    expect(newId()).toMatch(CROCKFORD);
    expect(newId(0)).toMatch(/^0{10}[0-9A-HJKMNP-TV-Z]{16}$/);
    expect(newId(2 ** 48 - 1)).toMatch(/^7ZZZZZZZZZ/);
  });

  it("encodes the timestamp in the first 10 characters, as ULID does", () => {
    // the ULID spec's example timestamp
    expect(newId(1469918176385).slice(0, 10)).toBe("01ARYZ6S41");
  });

  it("sorts by time as plain strings", () => {
    for (let i = 0; i < 100; i++) expect(newId(1000) < newId(2000)).toBe(true);
    const ids = [5, 1_700_000_000_000, 31, 32, 1_000_000, 1_699_999_999_999].map((t) => ({ t, id: newId(t) }));
    const byId = [...ids].sort((a, b) => (a.id < b.id ? -1 : 1)).map((x) => x.t);
    expect(byId).toEqual([...ids].map((x) => x.t).sort((a, b) => a - b));
  });

  it("is unique even within one millisecond", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId(1_700_000_000_000)));
    expect(ids.size).toBe(1000);
  });

  it("refuses timestamps outside 48 bits", () => {
    for (const t of [-1, 2 ** 48, 1.5, Number.NaN]) expect(() => newId(t)).toThrow(RangeError);
  });
});
