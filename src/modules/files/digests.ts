import { toHex } from "../../kernel/crypto";
import { sha256Field, wantedWeight } from "../../kernel/http/digest-fields";
import type { DigestField } from "../../kernel/http/streamed-body";

/** Which RFC 9530 digests a download answers with. */
export interface DigestAsk {
  repr: boolean;
  content: boolean;
}

/**
 * What a download's `Want-Repr-Digest` and `Want-Content-Digest` ask for,
 * sha-256 being the only algorithm plinth keeps. `Repr-Digest` is sent
 * unless the client's Want excludes sha-256: it is one stored value, cheap,
 * and right for a range as for the whole file. `Content-Digest` only when
 * asked: on a 200 it repeats `Repr-Digest`, and a HEAD answer has no content
 * for it to describe.
 */
export function askedDigests(wantRepr: string | undefined, wantContent: string | undefined, method: string): DigestAsk {
  const repr = wantedWeight(wantRepr, "sha-256");
  const content = wantedWeight(wantContent, "sha-256");
  return { repr: repr === null || repr > 0, content: content !== null && content > 0 && method !== "HEAD" };
}

/**
 * The digest headers of a download of a file whose SHA-256 is `sha256` (hex;
 * null for a file with none recorded: no header). `Repr-Digest` is the whole
 * file's on a 206 too. A 206 gets no `Content-Digest`: the digest of just
 * the range would have to be known before its first byte is sent, so the
 * range would be buffered whole (up to FILES_MAX_BYTES), and Workers send no
 * trailers to put it after.
 */
export function digestHeaders(ask: DigestAsk, sha256: string | null, partial: boolean): Record<string, string> {
  if (sha256 === null) return {};
  const field = sha256Field(sha256);
  return {
    ...(ask.repr ? { "Repr-Digest": field } : {}),
    ...(ask.content && !partial ? { "Content-Digest": field } : {}),
  };
}

/**
 * The first of an upload's declared digests that is not the SHA-256 (hex) of
 * the bytes received (with what it declared, as a field value), or null when all match. `Content-Digest` and
 * `Repr-Digest` name the same bytes for an upload (no range, no content
 * coding of its own), so each is held to them; a digest of public bytes is
 * no secret, so a plain comparison serves.
 */
export function mismatchedDigest(
  declared: { field: DigestField; sha256: Uint8Array | null }[],
  sha256: string,
): { field: DigestField; declared: string } | null {
  for (const d of declared) {
    if (d.sha256 && toHex(d.sha256) !== sha256) return { field: d.field, declared: sha256Field(toHex(d.sha256)) };
  }
  return null;
}

/**
 * A digest_mismatch's detail: both digests in the field's own syntax, so a client
 * compares them with what it sent (base64), and the body's in hex too, as the
 * file's `sha256` is listed.
 */
export function mismatchDetail(mismatch: { field: DigestField; declared: string }, sha256: string): string {
  return `${mismatch.field} declared ${mismatch.declared}, but the body received is ${sha256Field(sha256)} (hex ${sha256})`;
}
