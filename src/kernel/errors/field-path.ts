/** A key written as it is in a path: letters, digits, `_` and `-` (a field, a header, an index). */
const PLAIN = /^[A-Za-z0-9_-]+$/;

/**
 * A problem's `errors[].path` (CONTRACT.md: a string): where the field is (`body`, `query`,
 * `path`, `header`), then its keys, joined with dots (`body.permissions.2`). A key that is not
 * plain is written as a JSON string in brackets, `body.rate_limits["tickets.open"].limit`: a
 * key may hold a dot (a module's policy is `<module>.<name>`), and joined with the others it
 * would read as two keys.
 *
 * @example
 * fieldPath(["body", "rate_limits", "tickets.open", "limit"]) // 'body.rate_limits["tickets.open"].limit'
 */
export function fieldPath(segments: readonly PropertyKey[]): string {
  let path = "";
  for (const segment of segments) {
    const key = String(segment);
    if (PLAIN.test(key)) path += path === "" ? key : `.${key}`;
    else path += `[${JSON.stringify(key)}]`;
  }
  return path;
}
