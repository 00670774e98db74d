// A key's effective grants (its scopes capped by its creator chain) as one pattern list, swept
// over pattern pairs against the two questions asked of it: the request path's `grants()` on
// every declared permission, and the policy's `covers()` on every pattern, each of which must
// answer exactly as asking the scopes and every cap in turn.
import { describe, expect, it } from "vitest";
import { ALL_PERMISSIONS } from "../../src/generated/permissions";
import { covers, grants } from "../../src/kernel/auth/permissions";
import { effectiveGrants, type KeyCap, withheldScopes } from "../../src/modules/identity/key-reach";

const DECLARED = [...ALL_PERMISSIONS];
const PATTERNS = ["*", "*.read", "*.write", "identity.*", "admin.*", "blog.*"];
const LISTS: string[][] = [
  ["*"],
  ["*.read"],
  ["identity.*"],
  ["admin.*", "*.read"],
  ["identity.user.read", "admin.keys.write"],
  ["identity.*", "admin.keys.read"],
  ["*.write", "identity.user.read"],
  [],
];
const cap = (grantsOf: string[]): KeyCap => ({ grants: grantsOf, owner: false });

describe("a key's effective grants", () => {
  it("grant a declared permission, and hold a pattern, exactly when the scopes and every cap do", () => {
    let compared = 0;
    for (const scopes of LISTS)
      for (const a of LISTS)
        for (const b of [null, ...LISTS]) {
          const caps = b === null ? [cap(a)] : [cap(a), cap(b)];
          const lists = [scopes, ...caps.map((c) => c.grants)];
          const effective = effectiveGrants(scopes, caps, DECLARED);
          const why = `${JSON.stringify(scopes)} under ${JSON.stringify(caps.map((c) => c.grants))}`;
          for (const p of DECLARED) {
            expect(grants(effective, p), `${p}: ${why}`).toBe(lists.every((l) => grants(l, p)));
            compared++;
          }
          for (const q of PATTERNS) {
            expect(covers(effective, q), `${q}: ${why}`).toBe(lists.every((l) => covers(l, q)));
            compared++;
          }
        }
    expect(compared).toBe(LISTS.length ** 2 * (LISTS.length + 1) * (DECLARED.length + PATTERNS.length));
  });

  it("are the scopes themselves under no cap (the platform's keys)", () => {
    expect(effectiveGrants(["*"], [], DECLARED)).toEqual(["*"]);
    expect(effectiveGrants(["identity.*", "*.read", "*.read"], [], DECLARED)).toEqual(["*.read", "identity.*"]);
  });

  it("spell `<module>.*` under `*.<action>` as the declared permissions both grant", () => {
    const effective = effectiveGrants(["identity.*"], [cap(["*.read"])], DECLARED);
    expect(effective.length).toBeGreaterThan(0);
    expect(effective).toEqual(DECLARED.filter((p) => p.startsWith("identity.") && p.endsWith(".read")).sort());
  });
});

describe("withheld scopes", () => {
  it("name the scopes some link no longer holds; `*` is withheld once a link is no owner", () => {
    const admin: KeyCap = { grants: ["*"], owner: false };
    const owner: KeyCap = { grants: ["*"], owner: true };
    expect(withheldScopes(["*", "identity.*"], [admin])).toEqual(["*"]);
    expect(withheldScopes(["*", "identity.*"], [owner])).toEqual([]);
    // `*.read` grants every read, but not `identity.*` (which grows past the reads) nor a write.
    expect(withheldScopes(["identity.*", "admin.keys.read", "admin.keys.write"], [cap(["*.read"])])).toEqual([
      "admin.keys.write",
      "identity.*",
    ]);
    expect(withheldScopes(["admin.keys.read"], [cap(["admin.*"]), cap([])])).toEqual(["admin.keys.read"]);
  });
});
