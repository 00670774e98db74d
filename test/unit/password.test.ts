import { argon2id } from "@noble/hashes/argon2.js";
import { describe, expect, it } from "vitest";
import {
  type Argon2Params,
  base64UrlDecode,
  createArgon2idHasher,
  nobleArgon2id,
  OWASP_ARGON2ID,
  passwordProblem,
} from "../../src/kernel/crypto";

// Small enough that the suite stays fast; the cost does not change the wiring under test.
const FAST: Argon2Params = { m: 1024, t: 1, p: 1 };
const PASSWORD = "correct horse battery staple";
const PHC_SHAPE = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

/** Decodes a PHC base64 field (standard alphabet, no padding). */
function fromPhcBase64(text: string): Uint8Array {
  return base64UrlDecode(text.replaceAll("+", "-").replaceAll("/", "_"));
}

function phcParts(stored: string) {
  const match = PHC_SHAPE.exec(stored);
  expect(match, stored).not.toBeNull();
  const [, m = "", t = "", p = "", salt = "", hash = ""] = match ?? [];
  return { params: { m: Number(m), t: Number(t), p: Number(p) }, salt: fromPhcBase64(salt), hash: fromPhcBase64(hash) };
}

describe("Argon2id PHC strings", () => {
  it("hashes to a PHC string with a 16-byte salt and a 32-byte hash", async () => {
    const stored = await createArgon2idHasher(FAST).hash(PASSWORD);
    const { params, salt, hash } = phcParts(stored);
    expect(params).toEqual(FAST);
    expect(salt).toHaveLength(16);
    expect(hash).toHaveLength(32);
  });

  it("computes what @noble/hashes' argon2id computes for the same salt and params", async () => {
    const hasher = createArgon2idHasher({ m: 256, t: 2, p: 2 });
    for (const password of [PASSWORD, "pässwörd with ünïcödé 🔑🔑", ""]) {
      const { params, salt, hash } = phcParts(await hasher.hash(password));
      const expected = argon2id(new TextEncoder().encode(password), salt, { ...params, dkLen: 32, version: 0x13 });
      expect(hash).toEqual(expected);
    }
  });

  it("the WASM hasher and the @noble reference verify each other's hashes", async () => {
    const params = { m: 512, t: 2, p: 2 };
    const wasm = createArgon2idHasher(params);
    const noble = createArgon2idHasher(params, nobleArgon2id);
    for (const password of [PASSWORD, "pässwörd with ünïcödé 🔑🔑"]) {
      expect(await noble.verify(await wasm.hash(password), password)).toEqual({ ok: true, needsRehash: false });
      expect(await wasm.verify(await noble.hash(password), password)).toEqual({ ok: true, needsRehash: false });
      expect((await wasm.verify(await noble.hash(password), `${password}!`)).ok).toBe(false);
    }
  });

  it("verifies the reference implementation's vectors (phc-winner-argon2 src/test.c)", async () => {
    const hasher = createArgon2idHasher(FAST);
    const vectors = [
      "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
    ];
    for (const stored of vectors) {
      expect(await hasher.verify(stored, "password")).toEqual({ ok: true, needsRehash: true });
      expect((await hasher.verify(stored, "passwore")).ok).toBe(false);
    }
  });

  it("verifies the right password and refuses a wrong one", async () => {
    const hasher = createArgon2idHasher(FAST);
    const stored = await hasher.hash(PASSWORD);
    expect(await hasher.verify(stored, PASSWORD)).toEqual({ ok: true, needsRehash: false });
    expect(await hasher.verify(stored, `${PASSWORD} `)).toEqual({ ok: false, needsRehash: false });
    expect((await hasher.verify(stored, "")).ok).toBe(false);
  });

  it("hashes the UTF-8 bytes as given, without normalising", async () => {
    const hasher = createArgon2idHasher(FAST);
    const stored = await hasher.hash("caf\u00e9 au lait 🔑");
    expect((await hasher.verify(stored, "caf\u00e9 au lait 🔑")).ok).toBe(true);
    expect((await hasher.verify(stored, "cafe\u0301 au lait 🔑")).ok).toBe(false);
  });

  it("salts every hash afresh", async () => {
    const hasher = createArgon2idHasher(FAST);
    const [a, b] = await Promise.all([hasher.hash(PASSWORD), hasher.hash(PASSWORD)]);
    expect(a).not.toBe(b);
    expect(phcParts(a).salt).not.toEqual(phcParts(b).salt);
    expect((await hasher.verify(a, PASSWORD)).ok).toBe(true);
    expect((await hasher.verify(b, PASSWORD)).ok).toBe(true);
  });

  it("verifies a hash made with older params and asks for a rehash", async () => {
    const old = await createArgon2idHasher(FAST).hash(PASSWORD);
    const current = createArgon2idHasher(OWASP_ARGON2ID);
    expect(await current.verify(old, PASSWORD)).toEqual({ ok: true, needsRehash: true });
    expect(await current.verify(old, "not the password")).toEqual({ ok: false, needsRehash: true });
  });

  it("hashes and verifies with the real OWASP params, needing no rehash", async () => {
    const hasher = createArgon2idHasher();
    const stored = await hasher.hash(PASSWORD);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(stored, PASSWORD)).toEqual({ ok: true, needsRehash: false });
  });
});

describe("Argon2id with malformed stored strings", () => {
  it("answers not-ok and rehash for every malformed string, without throwing", async () => {
    const hasher = createArgon2idHasher(FAST);
    const good = await hasher.hash(PASSWORD);
    const { salt } = phcParts(good);
    const lastSalt = good.lastIndexOf("$");
    const hashField = good.slice(lastSalt + 1);
    const flipped = `${good.slice(0, lastSalt + 1)}${hashField[0] === "A" ? "B" : "A"}${hashField.slice(1)}`;
    const saltField = good.slice(good.lastIndexOf("$", lastSalt - 1) + 1, lastSalt);
    expect(fromPhcBase64(saltField)).toEqual(salt);

    // well-formed with the current params, so only `ok` changes
    expect(await hasher.verify(flipped, PASSWORD)).toEqual({ ok: false, needsRehash: false });

    // 43 characters carry 258 bits for a 32-byte hash: setting the lowest spare bit keeps the bytes the same
    const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const lastChar = B64.indexOf(hashField.slice(-1));
    const nonCanonical = `${good.slice(0, -1)}${B64.charAt(lastChar | 1)}`;

    const malformed: Record<string, string> = {
      "hash truncated by one character": good.slice(0, -1),
      "hash truncated by four characters": good.slice(0, -4),
      "hash missing": good.slice(0, lastSalt),
      "hash empty": good.slice(0, lastSalt + 1),
      "cut in the params": good.slice(0, 20),
      argon2i: good.replace("$argon2id$", "$argon2i$"),
      argon2d: good.replace("$argon2id$", "$argon2d$"),
      bcrypt: "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
      "version 16": good.replace("$v=19$", "$v=16$"),
      "version missing": good.replace("$v=19", ""),
      "m missing": good.replace("m=1024,", ""),
      "params missing": good.replace("$m=1024,t=1,p=1", ""),
      "params reordered": good.replace("m=1024,t=1,p=1", "t=1,m=1024,p=1"),
      "leading zero": good.replace("m=1024", "m=01024"),
      "bad base64 in hash": `${good.slice(0, -2)}!!`,
      "base64url in hash": `${good.slice(0, -2)}-_`,
      "padded hash": `${good}=`,
      "bad base64 in salt": good.replace(saltField, `${saltField.slice(0, -1)}*`),
      "non-canonical hash": nonCanonical,
      "salt too short": good.replace(saltField, "c29tZQ"),
      "extra field": `${good}$AAAA`,
      "trailing newline": `${good}\n`,
      "leading space": ` ${good}`,
      empty: "",
      garbage: "not a hash at all",
    };
    for (const [name, stored] of Object.entries(malformed)) {
      await expect(hasher.verify(stored, PASSWORD), name).resolves.toEqual({ ok: false, needsRehash: true });
    }
  });

  it("refuses stored params that would cost too much, without running them", async () => {
    const hasher = createArgon2idHasher(FAST);
    const good = await hasher.hash(PASSWORD);
    for (const params of ["m=4294967295,t=1,p=1", "m=262145,t=1,p=1", "m=1024,t=1000000,p=1", "m=1024,t=1,p=255"]) {
      const stored = good.replace("m=1024,t=1,p=1", params);
      await expect(hasher.verify(stored, PASSWORD), params).resolves.toEqual({ ok: false, needsRehash: true });
    }
    // the block count must cover the lanes: m < 8·p is not a valid Argon2 hash
    const tooFewBlocks = good.replace("m=1024,t=1,p=1", "m=15,t=1,p=2");
    await expect(hasher.verify(tooFewBlocks, PASSWORD)).resolves.toEqual({ ok: false, needsRehash: true });
  });
});

describe("Argon2id with a stored marker no password verifies against", () => {
  it("spends one Argon2 run at the current params, as a wrong password does, so timing does not tell them apart", async () => {
    const runs: Argon2Params[] = [];
    const counting = createArgon2idHasher(FAST, (password, salt, params, dkLen) => {
      runs.push(params);
      return nobleArgon2id(password, salt, params, dkLen);
    });
    // Single sign-on's account, a password an administrator voided, a cut row alike.
    for (const marker of ["!sso", "!reset", ""]) {
      runs.length = 0;
      await expect(counting.verify(marker, PASSWORD), marker).resolves.toEqual({ ok: false, needsRehash: true });
      expect(runs, marker).toEqual([FAST]);
    }
  });
});

describe("verifyDummy", () => {
  it("resolves to nothing, for any password, every time", async () => {
    const hasher = createArgon2idHasher(FAST);
    for (const password of [PASSWORD, "", "🔑".repeat(256)]) {
      await expect(hasher.verifyDummy(password)).resolves.toBeUndefined();
    }
  });
});

describe("createArgon2idHasher", () => {
  it("refuses parameters that are unsafe or would let a config typo DoS the service", () => {
    const bad: Argon2Params[] = [
      { m: 15, t: 1, p: 2 },
      { m: 7, t: 1, p: 1 },
      { m: 1024, t: 0, p: 1 },
      { m: 1024, t: 1, p: 0 },
      { m: 262145, t: 1, p: 1 },
      { m: 19456 * 1024, t: 2, p: 1 },
      { m: 1024.5, t: 1, p: 1 },
      { m: Number.NaN, t: 1, p: 1 },
      { m: 1024, t: -1, p: 1 },
      { m: 1024, t: 1000, p: 1 },
    ];
    for (const params of bad) expect(() => createArgon2idHasher(params), JSON.stringify(params)).toThrow(RangeError);
  });

  it("accepts the bounds", () => {
    expect(() => createArgon2idHasher({ m: 8, t: 1, p: 1 })).not.toThrow();
    expect(() => createArgon2idHasher({ m: 262144, t: 1, p: 1 })).not.toThrow();
    expect(() => createArgon2idHasher(OWASP_ARGON2ID)).not.toThrow();
  });
});

describe("passwordProblem", () => {
  it("wants at least 12 characters", () => {
    expect(passwordProblem("a".repeat(11))).toMatch(/at least 12/);
    expect(passwordProblem("a".repeat(12))).toBeNull();
    expect(passwordProblem("")).toMatch(/at least 12/);
  });

  it("counts code points, so an emoji is one character", () => {
    // 11 emoji are 22 UTF-16 units but 11 characters
    expect(passwordProblem("🔑".repeat(11))).toMatch(/at least 12/);
    expect(passwordProblem("🔑".repeat(12))).toBeNull();
  });

  it("allows up to 1024 bytes of UTF-8", () => {
    expect(passwordProblem("a".repeat(1024))).toBeNull();
    expect(passwordProblem("a".repeat(1025))).toMatch(/1024 bytes/);
    expect(passwordProblem("é".repeat(512))).toBeNull();
    expect(passwordProblem(`${"é".repeat(512)}a`)).toMatch(/1024 bytes/);
    expect(passwordProblem(`${"€".repeat(341)}a`)).toBeNull();
    expect(passwordProblem(`${"€".repeat(341)}ab`)).toMatch(/1024 bytes/);
    expect(passwordProblem("🔑".repeat(256))).toBeNull();
    expect(passwordProblem(`${"🔑".repeat(256)}a`)).toMatch(/1024 bytes/);
  });
});
