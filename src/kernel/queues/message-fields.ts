/**
 * A short string field of a queue message's body, read without trusting its
 * shape (a dead letter may be anything): at most 200 characters, or null.
 *
 * @example
 * stringField(message.body, "tenant_id"); // "t_01…" or null
 */
export function stringField(body: unknown, key: string): string | null {
  if (typeof body !== "object" || body === null) return null;
  const value: unknown = Reflect.get(body, key);
  return typeof value === "string" ? value.slice(0, 200) : null;
}
