// RFC 8785 JSON Canonicalization Scheme for the offline `plinth` CLI. A copy
// of src/modules/audit/jcs.ts (which the Worker uses); test/node/audit-cli.test.ts
// checks that both agree on random values.

/**
 * The JCS canonical form of a JSON value: object members sorted by the UTF-16
 * code units of their names, numbers as ECMAScript serialises them, no whitespace.
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
      return JSON.stringify(value);
    case "string":
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalize(v)).join(",")}]`;
      const keys = Object.keys(value)
        .filter((k) => value[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize(value[k])}`).join(",")}}`;
    }
    default:
      throw new TypeError(`JCS: cannot canonicalize a ${typeof value}`);
  }
}
