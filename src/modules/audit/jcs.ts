// RFC 8785 JSON Canonicalization Scheme. Import-free on purpose: the offline
// verifier (scripts/lib/jcs.mjs) is a line-for-line copy, and a Node test
// checks that both agree on random values.

/**
 * The JCS canonical form of a JSON value: object members sorted by the UTF-16
 * code units of their names, numbers as ECMAScript serialises them, strings
 * as `JSON.stringify` escapes them, no whitespace. Throws on values JSON
 * cannot hold (non-finite numbers, undefined, functions, bigints).
 *
 * @example
 * canonicalize({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalize(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError("JCS: numbers must be finite");
      // ECMAScript Number::toString is exactly what RFC 8785 prescribes (-0 becomes 0).
      return JSON.stringify(value);
    case "string":
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalize(v)).join(",")}]`;
      const record = value as Record<string, unknown>;
      // The default sort compares UTF-16 code units, as RFC 8785 section 3.2.3 requires.
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize(record[k])}`).join(",")}}`;
    }
    default:
      throw new TypeError(`JCS: cannot canonicalize a ${typeof value}`);
  }
}
