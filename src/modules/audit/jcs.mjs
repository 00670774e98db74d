// RFC 8785 JSON Canonicalization Scheme: the one implementation, shared by the
// Worker (src/modules/audit/chain.ts) and the offline `plinth` CLI
// (scripts/lib/audit-chain.mjs). Plain JavaScript with types in jcs.d.mts, because
// the CLI runs on plain Node 20, which cannot load TypeScript. Import-free.

/**
 * The JCS canonical form of a JSON value: object members sorted by the UTF-16
 * code units of their names, numbers as ECMAScript serialises them, strings
 * as `JSON.stringify` escapes them, no whitespace. Throws on values JSON
 * cannot hold (non-finite numbers, undefined, functions, bigints).
 *
 * @example
 * canonicalize({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 * @param {unknown} value
 * @returns {string}
 */
export function canonicalize(value) {
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
      // The default sort compares UTF-16 code units, as RFC 8785 section 3.2.3 requires.
      const keys = Object.keys(value)
        .filter((k) => value[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize(value[k])}`).join(",")}}`;
    }
    default:
      throw new TypeError(`JCS: cannot canonicalize a ${typeof value}`);
  }
}
