/**
 * What one line of text shown to people must not hold: control characters (NUL, CR, LF, TAB,
 * …), the line and paragraph separators (U+2028, U+2029: a line break like CR LF, but not
 * \p{Cc}), and the bidirectional marks, overrides and isolates that make text read as
 * something else in an admin's list ("Eve\u202Enimda"). Zero-width joiners stay: emoji
 * sequences need them. Pure, so deciders (a post's title) and route blocks (names) share it.
 */
const UNSHOWABLE = /[\p{Cc}\p{Zl}\p{Zp}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

/** Whether `value` is one line people can read as written. */
export function showable(value: string): boolean {
  return !UNSHOWABLE.test(value);
}

/** The validation message of a value `showable` refuses. */
export const UNSHOWABLE_MESSAGE = "must not contain control characters or bidirectional overrides";
