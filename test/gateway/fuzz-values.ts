// Odd values for the walk (input-fuzz.test.ts): text, header values, path segments and query
// values of the kinds that have broken parsers, routers and databases before.
import fc from "fast-check";

// Strings that have broken parsers, routers and databases before.
const NASTY = [
  "",
  " ",
  "..",
  "../..",
  ".",
  "%",
  "%%",
  "%zz",
  "%00",
  "%2e%2e",
  "%2F",
  "%C0%AF",
  "%E0%A4%A",
  "\u0000",
  "\uffff",
  "\u202e",
  "😀",
  "ẞ",
  "null",
  "undefined",
  "NaN",
  "Infinity",
  "-1",
  "0",
  "-0",
  "1.5",
  "1e309",
  "-1e309",
  "9007199254740993",
  "true",
  "[]",
  "{}",
  "__proto__",
  "constructor",
  "' OR 1=1 --",
  "*",
  "\\",
];

const longString = fc.integer({ min: 256, max: 4096 }).map((n) => "a".repeat(n));
/** An odd text value: nasty constants, any unicode, or long. */
export const oddText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 1, arbitrary: longString },
);

/** A header value fetch accepts (a ByteString: Latin-1, no CR/LF/NUL), odd in content. */
export const oddHeader = fc.oneof(
  fc.constantFrom("", " ", "*", "0", "-1", "1e309", '"', '""', 'W/"1"', '"1", "2"', "1,2", "\u00e9", "null", "[]"),
  // Values that pass as a version, so a request gets past If-Match to what comes after.
  fc.constantFrom("1", '"1"', "2", '"2"', "3"),
  fc.string({ maxLength: 40 }),
  fc.integer({ min: 200, max: 400 }).map((n) => "k".repeat(n)),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 30 }),
);

export function encodeSegment(raw: string): string {
  try {
    return encodeURIComponent(raw);
  } catch {
    // A lone surrogate: sent as the replacement a browser would send.
    return encodeURIComponent(raw.replace(/[\ud800-\udfff]/g, "\ufffd"));
  }
}

/** A path parameter: percent-encoded odd text, or a raw escape the router has to cope with. */
export const pathSegment = fc.oneof(
  { weight: 4, arbitrary: oddText.map((s) => (s === "" ? "%20" : encodeSegment(s))) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("..", ".", "%2e%2e", "%2F", "%", "%zz", "%C0%AF", "%00", "a%2Fb", "..%2F.."),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 6000 }).map((n) => "i".repeat(n)) },
);

export const queryValue = fc.oneof(
  oddText,
  fc.constantFrom("-5", "0", "101", "1e309", "2.5", "0x10", " 7", "07", "true", "false", "strong", "published"),
);
