// If-Match read as RFC 9110 13.1.1 reads it: `*`, or a list of entity-tags compared strongly.
import { describe, expect, it } from "vitest";
import { describeExpected, parseIfMatch, parseIfNoneMatch, versionMatches } from "../../src/kernel/http/if-match";

describe("parseIfMatch", () => {
  it("reads * alone as any version", () => {
    expect(parseIfMatch("*")).toEqual({ kind: "any" });
    expect(parseIfMatch("  *  ")).toEqual({ kind: "any" });
  });

  it("keeps strong version tags (and plinth's bare numbers), drops weak tags and tags that name no version", () => {
    expect(parseIfMatch('"3"')).toEqual({ kind: "versions", versions: [3] });
    expect(parseIfMatch("3")).toEqual({ kind: "versions", versions: [3] });
    expect(parseIfMatch('W/"3"')).toEqual({ kind: "versions", versions: [] });
    expect(parseIfMatch('"1", W/"2",  "3" ,, "abc"')).toEqual({ kind: "versions", versions: [1, 3] });
  });

  it("reads a comma inside a quoted tag as part of the tag, not a list separator", () => {
    // etagc allows ",": a valid tag no resource here has, so 412 (never a 400 for a valid header).
    expect(parseIfMatch('"a,b"')).toEqual({ kind: "versions", versions: [] });
    expect(parseIfMatch('"a,b", "2", W/"x,3"')).toEqual({ kind: "versions", versions: [2] });
    expect(parseIfMatch('"1,2"')).toEqual({ kind: "versions", versions: [] });
  });

  it("refuses what is not a list of entity-tags", () => {
    for (const bad of [
      "",
      ",",
      "abc",
      '"1',
      '1"',
      '*, "1"',
      'w/"1"',
      '"a"b"',
      "1e1",
      '"1" "2"',
      '"a,b',
      "W/",
      '"1"x',
    ]) {
      expect(parseIfMatch(bad), bad).toEqual({ kind: "invalid" });
    }
    expect(parseIfMatch(Array.from({ length: 33 }, (_, i) => `"${i}"`).join(","))).toEqual({ kind: "invalid" });
  });
});

describe("versionMatches", () => {
  it("matches no expectation, the one version, or any listed; an empty list matches nothing", () => {
    expect(versionMatches(undefined, 4)).toBe(true);
    expect([versionMatches(4, 4), versionMatches(3, 4)]).toEqual([true, false]);
    expect([versionMatches([3, 4], 4), versionMatches([3, 5], 4), versionMatches([], 4)]).toEqual([true, false, false]);
    // `*`: any version of a resource that exists; a writer reports a missing one as version 0.
    expect([versionMatches("*", 1), versionMatches("*", 0)]).toEqual([true, false]);
    expect([describeExpected(3), describeExpected([3, 4]), describeExpected([])]).toEqual([
      "3",
      "3 or 4",
      "none (only weak or unknown tags)",
    ]);
  });
});

describe("If-None-Match on a write (RFC 9110 13.1.2)", () => {
  it("names every version tag, weak or strong, drops tags that are no version, and reads * alone", () => {
    expect(parseIfNoneMatch('W/"1", "abc", "3"')).toEqual([1, 3]);
    expect(parseIfNoneMatch('"abc"')).toEqual([]);
    expect(parseIfNoneMatch(" * ")).toBe("*");
    for (const bad of ["abc", '"1', '*, "3"', ","]) expect(parseIfNoneMatch(bad), bad).toBe("invalid");
  });

  it("is met by a version it does not name, and `*` only where there is no resource yet", () => {
    expect(versionMatches({ not: [1, 3] }, 2)).toBe(true);
    expect(versionMatches({ not: [1, 3] }, 3)).toBe(false);
    expect(versionMatches({ not: [] }, 3)).toBe(true);
    expect(versionMatches({ not: "*" }, 0)).toBe(true);
    expect(versionMatches({ not: "*" }, 1)).toBe(false);
  });

  it("holds together with If-Match: both must be met", () => {
    expect(versionMatches({ match: 2, not: [9] }, 2)).toBe(true);
    expect(versionMatches({ match: 2, not: [2] }, 2)).toBe(false);
    expect(versionMatches({ match: [1, 2], not: [9] }, 3)).toBe(false);
    expect(versionMatches({ match: "*", not: "*" }, 1)).toBe(false);
  });

  it("says what it asked in a conflict's detail", () => {
    expect(describeExpected({ not: [1, 3] })).toBe("not 1 nor 3");
    expect(describeExpected({ not: "*" })).toBe("none (If-None-Match: *)");
    expect(describeExpected({ match: 2, not: [2] })).toBe("2, not 2");
  });
});
