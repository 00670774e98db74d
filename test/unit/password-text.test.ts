import { describe, expect, it } from "vitest";
import {
  type Argon2idKdf,
  type Argon2Params,
  createArgon2idHasher,
  nobleArgon2id,
  normalisedPasswords,
  passwordProblem,
} from "../../src/kernel/crypto";

const FAST: Argon2Params = { m: 1024, t: 1, p: 1 };
// The same passphrase as two keyboards send it: precomposed (NFC, what most systems type)
// and decomposed (NFD, what some macOS input paths and pasted file names give).
const COMPOSED = "Grüße aus Köln, 2026".normalize("NFC");
const DECOMPOSED = COMPOSED.normalize("NFD");

/** A KDF that counts its runs, so a test can see how much work a verify spent. */
function counting(): { kdf: Argon2idKdf; runs: () => number } {
  let runs = 0;
  return {
    kdf: (password, salt, params, dkLen) => {
      runs++;
      return nobleArgon2id(password, salt, params, dkLen);
    },
    runs: () => runs,
  };
}

describe("passwords as text (Unicode normalisation)", () => {
  it("verifies a password typed in either normalisation form, whichever one set it", async () => {
    expect(COMPOSED).not.toBe(DECOMPOSED);
    const hasher = normalisedPasswords(createArgon2idHasher(FAST));
    for (const [set, typed] of [
      [COMPOSED, DECOMPOSED],
      [DECOMPOSED, COMPOSED],
      [DECOMPOSED, DECOMPOSED],
    ] as const) {
      expect(await hasher.verify(await hasher.hash(set), typed)).toEqual({ ok: true, needsRehash: false });
    }
    expect((await hasher.verify(await hasher.hash(COMPOSED), `${DECOMPOSED}!`)).ok).toBe(false);
  });

  it("still verifies a hash stored from the decomposed bytes before normalising, and asks for a rehash", async () => {
    const raw = createArgon2idHasher(FAST);
    const legacy = await raw.hash(DECOMPOSED);
    const hasher = normalisedPasswords(raw);
    expect(await hasher.verify(legacy, DECOMPOSED)).toEqual({ ok: true, needsRehash: true });
    expect((await hasher.verify(legacy, `${DECOMPOSED}!`)).ok).toBe(false);
    // The rehash a login then stores is of the normalised text: either form verifies it.
    expect(await hasher.verify(await hasher.hash(DECOMPOSED), COMPOSED)).toEqual({ ok: true, needsRehash: false });
  });

  it("spends as much work on an unknown email as on a wrong password, in either form", async () => {
    for (const typed of [COMPOSED, DECOMPOSED]) {
      const wrong = counting();
      const hasher = normalisedPasswords(createArgon2idHasher(FAST, wrong.kdf));
      const stored = await hasher.hash("another passphrase entirely");
      const before = wrong.runs();
      await hasher.verify(stored, typed);
      const forWrong = wrong.runs() - before;

      const dummy = counting();
      await normalisedPasswords(createArgon2idHasher(FAST, dummy.kdf)).verifyDummy(typed);
      expect(dummy.runs(), typed).toBe(forWrong);
    }
  });

  it("counts the characters of the normalised text", () => {
    // Six letters with umlauts are twelve code points when decomposed, but six characters.
    const six = "üöäÜÖÄ";
    expect(passwordProblem(six.repeat(2).normalize("NFD"))).toBeNull();
    expect(passwordProblem(six.normalize("NFD"))).toMatch(/at least 12/);
  });
});
