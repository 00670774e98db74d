import type { MiddlewareHandler } from "hono";
import { AppError, acceptedTypes } from "../errors";

/** The Encoding Standard's labels of UTF-8 (encoding.spec.whatwg.org), compared without case. */
const UTF8_LABELS = new Set([
  "unicode-1-1-utf-8",
  "unicode11utf8",
  "unicode20utf8",
  "utf-8",
  "utf8",
  "x-unicode20utf8",
]);

/**
 * US-ASCII's IANA name and alias. Its text is UTF-8 byte for byte, so a client that says so (some
 * HTTP libraries add it to every text body) is read, not refused; a byte past 0x7F is then not
 * ASCII and is held to UTF-8 like any other (`isUtf8` below). The Encoding Standard maps these
 * labels to windows-1252 for decoding web content, which is not how a client means them here.
 */
const ASCII_LABELS = new Set(["us-ascii", "ascii"]);

/** `application/json` or a `+json` type: the bodies the operations' validators read as JSON. */
const JSON_ESSENCE = /^application\/(?:[a-z0-9.+-]+\+)?json$/i;

/**
 * Whether a `Content-Type` declares a JSON body in a charset other than UTF-8. The Worker reads
 * every JSON body as UTF-8 (`Request.text()`), whatever it says, and RFC 8259 §8.1 has JSON
 * exchanged between systems in UTF-8 only: a body really in Latin-1 would have its accented
 * letters stored as U+FFFD, one in UTF-16 would fail as malformed. No charset, UTF-8 under
 * any of its labels (quoted or not), or US-ASCII (UTF-8's first 128 characters) is fine; so is any type that is not JSON (the validator's
 * own 415 answers that).
 *
 * @example
 * declaresForeignJsonCharset("application/json; charset=utf-8"); // false
 * declaresForeignJsonCharset("application/json; charset=iso-8859-1"); // true
 */
export function declaresForeignJsonCharset(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [essence = "", ...params] = contentType.split(";");
  if (!JSON_ESSENCE.test(essence.trim())) return false;
  return params.some((param) => {
    const [name = "", value = ""] = param.split(/=(.*)/s, 2).map((p) => p.trim());
    if (name.toLowerCase() !== "charset") return false;
    const label = value
      .replace(/^"(.*)"$/s, "$1")
      .trim()
      .toLowerCase();
    return !UTF8_LABELS.has(label) && !ASCII_LABELS.has(label);
  });
}

/**
 * `bytes` as text when they are well-formed UTF-8 (no overlong form, no surrogate, nothing cut
 * short), else null. A leading BOM is dropped, as `Request.text()` drops it.
 */
export function utf8Text(bytes: ArrayBuffer | Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Route middleware of an operation that takes a JSON body (added by `operations()`): refuses a
 * body declared in another charset with 415 `unsupported_media_type`, and `Accept-Post` or
 * `Accept-Patch: application/json` as the media type gate's 415 does, before it is read; and a
 * JSON body whose bytes are not UTF-8 with 400 `validation_failed` naming `body`, which the
 * validator's `Request.text()` would have read with U+FFFD in place of each bad sequence (the
 * characters a client sent, lost without a word). The bytes are read through Hono's body cache
 * (the idempotency fingerprint reads the same `arrayBuffer`), and the text decoded here is
 * cached beside them for the validator's `json()`: with only the bytes cached, Hono wraps them
 * in a new Response to decode them again, which cost ~6% of a PATCH's throughput in `bench:ab`.
 * A streamed body (a file upload) is the file's own bytes and keeps its charset: not added there.
 */
export const utf8JsonOnly: MiddlewareHandler = async function utf8JsonOnly(c, next) {
  const type = c.req.header("content-type");
  if (declaresForeignJsonCharset(type)) {
    throw new AppError("unsupported_media_type", {
      detail: "JSON bodies must be UTF-8 (RFC 8259 §8.1): send them with charset=utf-8 or no charset",
      headers: acceptedTypes(c.req.method, ["application/json"]),
    });
  }
  if (type !== undefined && JSON_ESSENCE.test(type.split(";")[0]?.trim() ?? "") && c.req.raw.body) {
    const text = utf8Text(await c.req.arrayBuffer());
    if (text === null) {
      throw new AppError("validation_failed", {
        detail: "the JSON body is not valid UTF-8 (RFC 8259 §8.1)",
        errors: [{ path: "body", message: "not valid UTF-8" }],
      });
    }
    // Hono keeps each body read as a promise (its `json()` calls `.then` on the cached text),
    // though its type says `string`: set through Reflect rather than a cast.
    Reflect.set(c.req.bodyCache, "text", Promise.resolve(text));
  }
  await next();
};
