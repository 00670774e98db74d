// The verdict on a read's preconditions (kernel/http/read-preconditions.ts), RFC 9110 §13.2.2:
// If-Match (strong) first, then If-None-Match (weak), over the ETag of the 200 the route gave.
import { describe, expect, it } from "vitest";
import { matchNames, readPreconditions } from "../../src/kernel/http/read-preconditions";

describe("matchNames (If-Match, strong comparison)", () => {
  it("names the current tag only strongly, any for `*`, and tells a value that is not entity-tags", () => {
    expect(matchNames('"3"', '"3"')).toBe(true);
    expect(matchNames("3", '"3"')).toBe(true);
    expect(matchNames('"1", "3"', '"3"')).toBe(true);
    expect(matchNames("*", '"3"')).toBe(true);
    expect(matchNames('W/"3"', '"3"')).toBe(false);
    // A weak current tag is never matched strongly, by a weak tag nor by its strong twin.
    expect(matchNames('W/"3"', 'W/"3"')).toBe(false);
    expect(matchNames('"3"', 'W/"3"')).toBe(false);
    expect(matchNames('"4"', '"3"')).toBe(false);
    for (const bad of ["abc", '"3', '*, "3"', ","]) expect(matchNames(bad, '"3"'), bad).toBe("invalid");
  });
});

describe("readPreconditions", () => {
  const at3 = (ifMatch?: string, ifNoneMatch?: string) => readPreconditions({ ifMatch, ifNoneMatch }, '"3"');

  it("serves a read with no conditions", () => {
    expect(at3()).toBe("serve");
  });

  it("fails If-Match that names no current tag, whatever If-None-Match says", () => {
    expect(at3('"2"')).toBe("precondition_failed");
    expect(at3('W/"3"')).toBe("precondition_failed");
    expect(at3('"2"', '"3"')).toBe("precondition_failed");
    expect(at3('"2"', "abc")).toBe("precondition_failed");
  });

  it("lets If-None-Match decide once If-Match holds", () => {
    expect(at3('"3"')).toBe("serve");
    expect(at3('"3"', 'W/"3"')).toBe("not_modified");
    expect(at3("*", "*")).toBe("not_modified");
    expect(at3('"3"', '"4"')).toBe("serve");
  });

  it("refuses an If-Match that is not entity-tags, but ignores such an If-None-Match", () => {
    expect(at3("abc")).toBe("invalid_if_match");
    expect(at3("abc", '"3"')).toBe("invalid_if_match");
    expect(at3(undefined, "abc")).toBe("serve");
  });
});

describe("readPreconditions on a read without an ETag", () => {
  const untagged = (ifMatch?: string, ifNoneMatch?: string) => readPreconditions({ ifMatch, ifNoneMatch }, null);

  it("refuses tags, which nothing there has; serves `*` and no If-Match", () => {
    for (const tags of ['"3"', "3", 'W/"3"', '"1", "2"']) expect(untagged(tags), tags).toBe("untagged_if_match");
    expect(untagged("abc")).toBe("invalid_if_match");
    expect(untagged("*")).toBe("serve");
    expect(untagged()).toBe("serve");
  });

  it("never answers 304 without a tag to stand for the 200", () => {
    expect(untagged(undefined, "*")).toBe("serve");
    expect(untagged("*", '"3"')).toBe("serve");
  });
});
