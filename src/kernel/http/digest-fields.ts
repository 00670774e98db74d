/**
 * RFC 9530 digest fields on responses: what a client's `Want-Repr-Digest` /
 * `Want-Content-Digest` asks for, and a `Repr-Digest` / `Content-Digest`
 * value. Pure: no request, no I/O. (What a request declares for its own body
 * is read by `declaredSha256`, `streamed-body.ts`.)
 */

/** A Dictionary member `key=<integer>` with optional parameters (RFC 8941 §3.2): the key and the integer. */
const MEMBER = /^([a-z*][a-z0-9_.*-]*)=(-?\d{1,15})(?:;.*)?$/s;

/**
 * The preference (0–10) a `Want-Repr-Digest` or `Want-Content-Digest` value
 * gives `algorithm`: 0 when it lists others but not this one (RFC 9530 §4:
 * 0 is "not acceptable", an unlisted algorithm is not asked for). Null when
 * the field is absent, or is not a Dictionary of Integers 0–10: RFC 8941
 * has a field that fails to parse ignored, as though it were not sent.
 *
 * @example
 * wantedWeight("sha-512=3, sha-256=10", "sha-256"); // 10
 * wantedWeight("sha-512=3", "sha-256"); // 0
 * wantedWeight("sha-256", "sha-256"); // null: a Boolean, not an Integer
 */
export function wantedWeight(header: string | undefined, algorithm: string): number | null {
  if (header === undefined) return null;
  // An empty field is an empty Dictionary: nothing is wanted.
  if (header.trim() === "") return 0;
  const weights = new Map<string, number>();
  for (const member of header.split(",")) {
    const m = MEMBER.exec(member.trim());
    if (!m?.[1] || m[2] === undefined) return null;
    const weight = Number(m[2]);
    if (weight < 0 || weight > 10) return null;
    // A key given twice: the last one wins (RFC 8941 §4.2.2).
    weights.set(m[1], weight);
  }
  return weights.get(algorithm) ?? 0;
}

/**
 * The `sha-256=:<base64>:` member of a digest field (an RFC 8941 Byte
 * Sequence) for a SHA-256 kept as lower-case hex, as plinth stores it.
 *
 * @example
 * sha256Field("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"); // "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
 */
export function sha256Field(hex: string): string {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error("a SHA-256 is 64 lower-case hex digits");
  const bytes = hex.match(/../g) ?? [];
  return `sha-256=:${btoa(bytes.map((pair) => String.fromCharCode(Number.parseInt(pair, 16))).join(""))}:`;
}
