import { describe, expect, it } from "vitest";
import { formatHttpDate, parseHttpDate } from "../../src/kernel/http/http-date";
import { preconditions, rangeApplies } from "../../src/modules/files/conditions";

describe("HTTP-date (RFC 9110 §5.6.7)", () => {
  const when = Date.UTC(1994, 10, 6, 8, 49, 37);
  it.each([
    ["Sun, 06 Nov 1994 08:49:37 GMT", when],
    ["Sunday, 06-Nov-94 08:49:37 GMT", when],
    ["Sun Nov  6 08:49:37 1994", when],
    ["Thu, 01 Jan 2065 00:00:00 GMT", Date.UTC(2065, 0, 1)],
    // Not HTTP-dates: ignored by the conditional fields, never guessed.
    ["1994-11-06T08:49:37Z", null],
    ["Sun, 06 Nov 1994 08:49:37 UTC", null],
    ["sun, 06 nov 1994 08:49:37 GMT", null],
    ["Mon, 30 Feb 2026 00:00:00 GMT", null],
    ["Mon, 07 Dec 2026 25:00:00 GMT", null],
    ["yesterday", null],
  ])("%s", (value, expected) => {
    expect(parseHttpDate(value)).toBe(expected);
  });
  it("formats an IMF-fixdate to the second below", () => {
    expect(formatHttpDate(when + 999)).toBe("Sun, 06 Nov 1994 08:49:37 GMT");
  });
});

describe("a download's preconditions (RFC 9110 §13.2.2)", () => {
  const v = { etag: '"abc"', lastModified: Date.UTC(2026, 0, 1, 12, 0, 0, 500) };
  const at = "Thu, 01 Jan 2026 12:00:00 GMT";
  const before = "Thu, 01 Jan 2026 11:59:59 GMT";
  it.each([
    [{}, "serve"],
    [{ ifMatch: '"abc"' }, "serve"],
    [{ ifMatch: '"x" , "abc"' }, "serve"],
    [{ ifMatch: "*" }, "serve"],
    [{ ifMatch: 'W/"abc"' }, "If-Match"],
    [{ ifMatch: '"x"', ifUnmodifiedSince: at }, "If-Match"],
    [{ ifMatch: '"abc"', ifUnmodifiedSince: before }, "serve"],
    [{ ifUnmodifiedSince: before }, "If-Unmodified-Since"],
    [{ ifUnmodifiedSince: at }, "serve"],
    [{ ifUnmodifiedSince: "not a date" }, "serve"],
    [{ ifNoneMatch: 'W/"abc"' }, "not_modified"],
    [{ ifNoneMatch: '"x"', ifModifiedSince: at }, "serve"],
    [{ ifModifiedSince: at }, "not_modified"],
    [{ ifModifiedSince: before }, "serve"],
    [{ ifMatch: '"x"', ifNoneMatch: '"abc"' }, "If-Match"],
  ])("%j", (conditions, expected) => {
    const verdict = preconditions(conditions, v);
    expect(verdict.kind === "failed" ? verdict.field : verdict.kind).toBe(expected);
  });
  it("If-Range: the strong tag or the exact date", () => {
    expect(rangeApplies(undefined, v)).toBe(true);
    expect(rangeApplies('"abc"', v)).toBe(true);
    expect(rangeApplies('W/"abc"', v)).toBe(false);
    expect(rangeApplies(at, v)).toBe(true);
    expect(rangeApplies(before, v)).toBe(false);
  });
});
