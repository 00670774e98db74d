import { type BareItem, parseDictionary } from "structured-headers";
import { describe, expect, it } from "vitest";
import { sha256Field, wantedWeight } from "../../src/kernel/http/digest-fields";

// Checked against structured-headers, an RFC 8941/9651 parser written independently of plinth.

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const sha256 = async (bytes: Uint8Array) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));

/** What RFC 9530 §4 makes of a Want-* value, by the independent parser: null when it is not a Dictionary of Integers 0-10. */
function referenceWeight(header: string, algorithm: string): number | null {
  let dict: Map<string, unknown>;
  try {
    dict = parseDictionary(header);
  } catch {
    return null;
  }
  const weights = new Map<string, BareItem>();
  for (const [key, member] of dict) {
    const [value] = member as [BareItem, unknown];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 10) return null;
    weights.set(key, value);
  }
  return Number(weights.get(algorithm) ?? 0);
}

describe("RFC 9530 digest fields", () => {
  it("writes sha-256 as an RFC 8941 Byte Sequence that a structured-field parser reads back to the digest", async () => {
    for (const bytes of [
      new Uint8Array(0),
      new TextEncoder().encode("hello"),
      crypto.getRandomValues(new Uint8Array(999)),
    ]) {
      const digest = await sha256(bytes);
      const field = sha256Field(hex(digest));
      const [value, params] = parseDictionary(field).get("sha-256") as [BareItem, Map<string, BareItem>];
      expect(value).toBeInstanceOf(ArrayBuffer);
      expect(new Uint8Array(value as ArrayBuffer)).toEqual(digest);
      expect(params.size).toBe(0);
    }
    // RFC 9530's own example value, the digest of no bytes.
    expect(sha256Field("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")).toBe(
      "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
    );
    expect(() => sha256Field("E3B0")).toThrow();
  });

  it("reads Want-*-Digest preferences as a structured-field parser does", () => {
    const cases = [
      "sha-256=10",
      "sha-512=3, sha-256=10",
      "sha-512=3",
      "sha-256=0, sha-512=10",
      "sha-256=1;x=2",
      "sha-256=1; x",
      "sha-256=3,sha-256=0",
      "sha-256=01",
      "*x=1, sha-256=4",
      "",
      "sha-256",
      "SHA-256=5",
      "sha-256=1.5",
      "sha-256=11",
      "sha-256=-1",
      "sha-256=1,",
      "sha-256=1 ;x",
      'sha-256="10"',
      "sha-256=:AAAA:",
    ];
    for (const header of cases) {
      expect(wantedWeight(header, "sha-256"), header).toBe(referenceWeight(header, "sha-256"));
    }
    // And the sense of the results: absent is no preference, not "none wanted".
    expect(wantedWeight(undefined, "sha-256")).toBeNull();
    expect(wantedWeight("sha-512=3, sha-256=7", "sha-256")).toBe(7);
    expect(wantedWeight("sha-512=3", "sha-256")).toBe(0);
    expect(wantedWeight("sha-256", "sha-256")).toBeNull();
  });
});
