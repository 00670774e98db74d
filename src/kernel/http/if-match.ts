import { z } from "zod";

/**
 * The versions a conditional write accepts: one, any of a list (`If-Match: "2", "3"`), or
 * `*`, any version of a resource that exists (RFC 9110: false when there is none, so a PUT
 * with `If-Match: *` updates and never creates). An empty list accepts none: every tag was
 * weak or named no version, so the write is 412.
 */
export type ExpectedVersion = number | number[] | "*";

/** Members of an If-Match list kept at most; a client has no reason to send more. */
export const IF_MATCH_MAX_TAGS = 32;

const Version = z.number().int().min(0).max(999_999_999);

/** {@link ExpectedVersion} as a Durable Object's RPC argument. */
export const ExpectedVersionSchema = z.union([Version, z.array(Version).max(IF_MATCH_MAX_TAGS), z.literal("*")]);

/** What an `If-Match` header asks: any current version (`*`), one of `versions`, or nothing readable. */
export type IfMatch = { kind: "any" } | { kind: "versions"; versions: number[] } | { kind: "invalid" };

// RFC 9110 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text.
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;
const DIGITS = /^\d{1,9}$/;

/**
 * Reads an `If-Match` value (RFC 9110 13.1.1). `*` alone is any version. Otherwise a
 * comma-separated list of entity-tags, compared strongly: a weak tag (`W/"3"`) never
 * matches, and a strong tag that is not a version (`"abc"`) is a tag no resource here has.
 * plinth's versions are its ETags (`"3"`); a bare `3` is taken as `"3"` too (the contract's
 * leniency). Anything else — `*` inside a list, an unterminated quote, no member at all —
 * is invalid.
 *
 * @example
 * parseIfMatch('"1", W/"2", "3"'); // { kind: "versions", versions: [1, 3] }
 * parseIfMatch('W/"1"');           // { kind: "versions", versions: [] }: never matches
 */
export function parseIfMatch(header: string): IfMatch {
  const value = header.trim();
  if (value === "*") return { kind: "any" };
  // Empty list elements are allowed and ignored (RFC 9110 5.6.1).
  const members = value
    .split(",")
    .map((m) => m.trim())
    .filter((m) => m !== "");
  if (members.length === 0 || members.length > IF_MATCH_MAX_TAGS) return { kind: "invalid" };
  const versions: number[] = [];
  for (const member of members) {
    if (DIGITS.test(member)) {
      versions.push(Number(member));
      continue;
    }
    const tag = ENTITY_TAG.exec(member);
    if (!tag) return { kind: "invalid" };
    const [, weak, opaque = ""] = tag;
    if (!weak && DIGITS.test(opaque)) versions.push(Number(opaque));
  }
  return { kind: "versions", versions };
}

/**
 * Whether a resource at `current` meets `expected`: no expectation always does; `*` does when
 * the resource exists (writers count versions from 1 and report a missing record as 0).
 */
export function versionMatches(expected: ExpectedVersion | undefined, current: number): boolean {
  if (expected === undefined) return true;
  if (expected === "*") return current > 0;
  return typeof expected === "number" ? expected === current : expected.includes(current);
}

/** `expected` as a problem's detail says it: `3`, or `1 or 3`, or `none` for a list that names none. */
export function describeExpected(expected: ExpectedVersion): string {
  if (expected === "*") return "* (any)";
  if (typeof expected === "number") return String(expected);
  return expected.length === 0 ? "none (only weak or unknown tags)" : expected.join(" or ");
}
