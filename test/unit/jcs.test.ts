import { describe, expect, it } from "vitest";
import { type AuditEntry, entryHash, firstBroken, GENESIS_HASH } from "../../src/modules/audit/chain";
import { canonicalize } from "../../src/modules/audit/jcs.mjs";

describe("RFC 8785 canonical JSON", () => {
  it("serialises the RFC's section 3.2.2 example as published", () => {
    // RFC 8785 §3.2.2: the input and its canonical form, byte for byte.
    const input = {
      // biome-ignore lint/correctness/noPrecisionLoss: the RFC's own input literal, rounded by design
      numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001],
      string: "\u20ac$\u000f\nA'\u0042\u0022\u005c\\\"/",
      literals: [null, true, false],
    };
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("sorts members by UTF-16 code units (RFC 8785 §3.2.3)", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    // The RFC's expected order. (Not via JSON.parse: JS objects put integer-like keys first.)
    const values = [...canonicalize(input).matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
    expect(values).toEqual([
      "Carriage Return",
      "One",
      "Control",
      "Latin Small Letter O With Diaeresis",
      "Euro Sign",
      "Emoji: Grinning Face",
      "Hebrew Letter Dalet With Dagesh",
    ]);
  });

  it("writes numbers as ECMAScript does (RFC 8785 appendix B samples)", () => {
    const samples: [number, string][] = [
      [0, "0"],
      [-0, "0"],
      [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"],
      [9007199254740992, "9007199254740992"],
      [295147905179352830000, "295147905179352830000"],
      [1e21, "1e+21"],
      [0.000001, "0.000001"],
      [1e-7, "1e-7"],
    ];
    for (const [n, text] of samples) expect(canonicalize(n)).toBe(text);
  });

  it("nests, drops undefined members and refuses what JSON cannot hold", () => {
    expect(canonicalize({ b: [{ z: 1, a: undefined, y: "x" }], a: {} })).toBe('{"a":{},"b":[{"y":"x","z":1}]}');
    expect(() => canonicalize(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalize(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => canonicalize(10n)).toThrow(TypeError);
  });
});

describe("audit chain", () => {
  const chain = (n: number): AuditEntry[] => {
    const out: AuditEntry[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= n; seq++) {
      const unsigned = {
        seq,
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
        actor: { kind: "user", id: `u${seq % 3}` },
        action: "blog.post.created",
        target: `post/${seq}`,
        request_id: `r${seq}`,
        ip_hash: null,
        prev_hash: prev,
      };
      const entry = { ...unsigned, hash: entryHash(unsigned) };
      out.push(entry);
      prev = entry.hash;
    }
    return out;
  };

  it("hashes the JCS form of the entry without its hash, as lowercase hex SHA-256", () => {
    const [first] = chain(1);
    expect(first?.prev_hash).toBe("0".repeat(64));
    expect(first?.hash).toMatch(/^[0-9a-f]{64}$/);
    // The hash field itself does not take part.
    if (first) expect(entryHash({ ...first, hash: "anything" })).toBe(first.hash);
  });

  it("accepts an intact chain and names the first broken seq of a tampered one", () => {
    const entries = chain(5);
    expect(firstBroken(entries)).toBeNull();
    const tampered = entries.map((e) => (e.seq === 3 ? { ...e, target: "post/other" } : e));
    expect(firstBroken(tampered)).toBe(3);
    expect(firstBroken([entries[0], entries[2]] as AuditEntry[])).toBe(2);
  });
});
