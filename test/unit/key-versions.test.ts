import { describe, expect, it } from "vitest";
import { sealedVersion } from "../../src/kernel/crypto/envelope";
import { addCounts, addOutcomes, countVersions, withVersions } from "../../src/kernel/crypto/key-versions";

const NONCE = "A".repeat(32);
const sealed = (version: number) => `v${version}.${NONCE}.${"B".repeat(40)}`;

describe("key versions of stored ciphertexts (no key needed)", () => {
  it("reads the version from a ciphertext's prefix, and null from anything else", () => {
    expect(sealedVersion(sealed(1))).toBe(1);
    expect(sealedVersion(sealed(1_000_000))).toBe(1_000_000);
    for (const other of [
      "",
      "whsec_abc",
      `v1.${NONCE}`,
      `vx.${NONCE}.${"B".repeat(40)}`,
      `1.${NONCE}.${"B".repeat(40)}`,
    ]) {
      expect(sealedVersion(other)).toBeNull();
    }
  });

  it("counts by kind and version, listing declared kinds with none, and a value that is no ciphertext as unknown", () => {
    const counts = countVersions(
      [
        { kind: "a.secret", sealed: sealed(1) },
        { kind: "a.secret", sealed: sealed(2) },
        { kind: "a.secret", sealed: sealed(2) },
        { kind: "a.token", sealed: "plain text" },
      ],
      ["a.secret", "a.token", "a.empty"],
    );
    expect(counts).toEqual({ "a.secret": { "1": 1, "2": 2 }, "a.token": { unknown: 1 }, "a.empty": {} });
  });

  it("adds counts and outcomes, and shows every configured version, 0 where none is sealed", () => {
    const sum = addCounts({ "a.secret": { "1": 1 } }, { "a.secret": { "1": 2, "2": 1 }, "b.key": { "2": 4 } });
    expect(sum).toEqual({ "a.secret": { "1": 3, "2": 1 }, "b.key": { "2": 4 } });
    expect(withVersions(sum, [3, 2, 1])).toEqual({
      "a.secret": { "3": 0, "2": 1, "1": 3 },
      "b.key": { "3": 0, "2": 4, "1": 0 },
    });
    expect(addOutcomes()).toEqual({ resealed: 0, raced: 0 });
    expect(addOutcomes({ resealed: 2, raced: 1 }, { resealed: 3, raced: 0 })).toEqual({ resealed: 5, raced: 1 });
  });
});
