import type { PasswordHasher, PasswordVerification } from "./password";

/**
 * A password is text, not bytes: the same passphrase arrives precomposed (NFC, what most
 * keyboards send) or decomposed (NFD: some macOS input paths, a pasted file name), and a
 * user who set it on one device must get in from another. RFC 8265's OpaqueString profile
 * (and NIST SP 800-63B 5.1.1.2) say to normalise before hashing; NFC is RFC 8265's choice
 * and changes nothing but the composition, so `ａ` (full-width) stays apart from `a`.
 *
 * @example
 * normalisePassword("Ko\u0308ln") === "K\u00f6ln"; // true
 */
export const normalisePassword = (password: string): string => password.normalize("NFC");

/**
 * Wraps a {@link PasswordHasher} (which hashes the bytes as given) so it hashes and checks
 * the normalised text. A hash stored before normalising, from decomposed bytes, still
 * verifies with the bytes as typed, answering `needsRehash` so a login stores the
 * normalised hash. `verifyDummy` spends the same runs as a wrong password of that text
 * (two when the text was not normalised, else one), so the work still says nothing of
 * which emails have an account.
 *
 * @example
 * const hasher = normalisedPasswords(createArgon2idHasher());
 * await hasher.verify(await hasher.hash("K\u00f6ln …"), "Ko\u0308ln …"); // { ok: true, … }
 */
export function normalisedPasswords(inner: PasswordHasher): PasswordHasher {
  const verify = async (stored: string, password: string): Promise<PasswordVerification> => {
    const text = normalisePassword(password);
    const verdict = await inner.verify(stored, text);
    if (verdict.ok || text === password) return verdict;
    const legacy = await inner.verify(stored, password);
    return legacy.ok ? { ok: true, needsRehash: true } : verdict;
  };
  return {
    hash: (password) => inner.hash(normalisePassword(password)),
    verify,
    async verifyDummy(password) {
      const text = normalisePassword(password);
      await inner.verifyDummy(text);
      if (text !== password) await inner.verifyDummy(password);
    },
  };
}
