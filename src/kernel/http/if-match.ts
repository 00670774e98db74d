import { z } from "zod";

/**
 * The versions `If-Match` accepts: one, any of a list (`If-Match: "2", "3"`), or `*`, any
 * version of a resource that exists (RFC 9110: false when there is none, so a PUT with
 * `If-Match: *` updates and never creates). An empty list accepts none: every tag was weak or
 * named no version, so the write is 412.
 */
export type MatchedVersions = number | number[] | "*";

/**
 * What a conditional write asks of the version it writes over: {@link MatchedVersions} from
 * `If-Match` alone, or, when `If-None-Match` came too, `not`: the versions it must not be at
 * (`*`: the resource must not exist, so a PUT with `If-None-Match: *` creates and never
 * overwrites), with `match` the `If-Match` part, if any. Writers compare it whole with
 * {@link versionMatches}, in the step that writes.
 */
export type ExpectedVersion = MatchedVersions | { match?: MatchedVersions | undefined; not: number[] | "*" };

/** Members of an If-Match list kept at most; a client has no reason to send more. */
export const IF_MATCH_MAX_TAGS = 32;

const Version = z.number().int().min(0).max(999_999_999);

const Versions = z.array(Version).max(IF_MATCH_MAX_TAGS);
const MatchedVersionsSchema = z.union([Version, Versions, z.literal("*")]);

/** {@link ExpectedVersion} as a Durable Object's RPC argument. */
export const ExpectedVersionSchema = z.union([
  MatchedVersionsSchema,
  z.strictObject({ match: MatchedVersionsSchema.optional(), not: z.union([Versions, z.literal("*")]) }),
]);

/** What an `If-Match` header asks: any current version (`*`), one of `versions`, or nothing readable. */
export type IfMatch = { kind: "any" } | { kind: "versions"; versions: number[] } | { kind: "invalid" };

// RFC 9110 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text.
// One list member and the comma after it, read where the last one ended (sticky): an
// entity-tag, whose etagc may itself hold a comma, or plinth's bare version number.
const MEMBER = /[ \t]*(?:(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"|(\d{1,9}))[ \t]*(?:,|$)/y;
// An empty list element (RFC 9110 5.6.1 allows and ignores them).
const EMPTY = /[ \t]*,/y;
const DIGITS = /^\d{1,9}$/;

/** One member of an entity-tag list: its opaque tag (without quotes) and whether it was weak. */
export interface EntityTag {
  weak: boolean;
  opaque: string;
}

/**
 * Reads a list of entity-tags (RFC 9110 8.8.3, as `If-Match` and `If-None-Match` carry them):
 * `*` alone is `"any"`; otherwise each member once parsed, a bare `3` taken as `"3"` (the
 * contract's leniency for versions). `*` inside a list, an unterminated quote, more than
 * {@link IF_MATCH_MAX_TAGS} members or none at all is `"invalid"`.
 *
 * @example
 * entityTags('"a,b", W/"2"'); // [{ weak: false, opaque: "a,b" }, { weak: true, opaque: "2" }]
 */
export function entityTags(header: string): EntityTag[] | "any" | "invalid" {
  const value = header.trim();
  if (value === "*") return "any";
  const tags: EntityTag[] = [];
  let at = 0;
  while (at < value.length) {
    EMPTY.lastIndex = at;
    if (EMPTY.test(value)) {
      at = EMPTY.lastIndex;
      continue;
    }
    MEMBER.lastIndex = at;
    const member = MEMBER.exec(value);
    if (!member || tags.length >= IF_MATCH_MAX_TAGS) return "invalid";
    at = MEMBER.lastIndex;
    const [, weak, opaque, bare] = member;
    tags.push({ weak: weak !== undefined, opaque: bare ?? opaque ?? "" });
  }
  return tags.length === 0 ? "invalid" : tags;
}

/**
 * Reads an `If-Match` value (RFC 9110 13.1.1) over plinth's versions. `*` alone is any
 * version. Otherwise the list's entity-tags ({@link entityTags}), compared strongly: a weak tag
 * (`W/"3"`) never matches, and a strong tag that is not a version (`"abc"`, `"a,b"`) is a tag
 * no resource here has. plinth's versions are its ETags (`"3"`); a bare `3` is taken as `"3"`.
 *
 * @example
 * parseIfMatch('"1", W/"2", "3"'); // { kind: "versions", versions: [1, 3] }
 * parseIfMatch('W/"1"');           // { kind: "versions", versions: [] }: never matches
 */
export function parseIfMatch(header: string): IfMatch {
  const tags = entityTags(header);
  if (tags === "any") return { kind: "any" };
  if (tags === "invalid") return { kind: "invalid" };
  const versions = tags.filter((t) => !t.weak && DIGITS.test(t.opaque)).map((t) => Number(t.opaque));
  return { kind: "versions", versions };
}

/**
 * The versions an `If-None-Match` value (RFC 9110 13.1.2) names, for a write: `*` alone (any
 * version: the resource must not exist), else every tag that is a version, weak or strong (it
 * compares weakly, so `W/"3"` names version 3). A tag that is no version names none; the
 * list may end up empty, which every version meets. `"invalid"` when it is not entity-tags.
 *
 * @example
 * parseIfNoneMatch('W/"1", "abc", "3"'); // [1, 3]
 */
export function parseIfNoneMatch(header: string): number[] | "*" | "invalid" {
  const tags = entityTags(header);
  if (tags === "any" || tags === "invalid") return tags === "any" ? "*" : "invalid";
  return tags.filter((t) => DIGITS.test(t.opaque)).map((t) => Number(t.opaque));
}

function matched(expected: MatchedVersions, current: number): boolean {
  if (expected === "*") return current > 0;
  return typeof expected === "number" ? expected === current : expected.includes(current);
}

/**
 * Whether a resource at `current` meets `expected`: no expectation always does; `*` does when
 * the resource exists (writers count versions from 1 and report a missing record as 0); a `not`
 * (If-None-Match) does when `current` is none of its versions, or for `*` when there is no
 * resource, and its `match` (If-Match) is met too (RFC 9110 13.2.2: both must hold).
 */
export function versionMatches(expected: ExpectedVersion | undefined, current: number): boolean {
  if (expected === undefined) return true;
  if (typeof expected !== "object" || Array.isArray(expected)) return matched(expected, current);
  const excluded = expected.not === "*" ? current > 0 : expected.not.includes(current);
  return !excluded && (expected.match === undefined || matched(expected.match, current));
}

function describeMatched(expected: MatchedVersions): string {
  if (expected === "*") return "* (any)";
  if (typeof expected === "number") return String(expected);
  return expected.length === 0 ? "none (only weak or unknown tags)" : expected.join(" or ");
}

/**
 * `expected` as a problem's detail says it: `3`, or `1 or 3`, or `none` for a list that names
 * none; If-None-Match's part as `not 3` or `none (If-None-Match: *)`.
 */
export function describeExpected(expected: ExpectedVersion): string {
  if (typeof expected !== "object" || Array.isArray(expected)) return describeMatched(expected);
  const not =
    expected.not === "*"
      ? "none (If-None-Match: *)"
      : `not ${expected.not.length === 0 ? "none" : expected.not.join(" nor ")}`;
  return expected.match === undefined ? not : `${describeMatched(expected.match)}, ${not}`;
}
