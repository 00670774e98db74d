import { z } from "zod";
import { isNewId } from "../../kernel/crypto";
import { withoutInvisible } from "./name-chars";

/**
 * What the files module allows: sizes, media types, names, byte ranges. Pure
 * functions over their inputs (the Worker's env is passed in), tested without
 * a runtime.
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The deployment's limits: the largest file, and the quota of a tenant that set none. */
export interface FileLimits {
  /** `FILES_MAX_BYTES`: the largest upload (default 50 MiB, under the Workers plans' 100 MB request bodies). */
  maxFileBytes: number;
  /** `FILES_QUOTA_BYTES`: a tenant's storage quota, and the most a tenant may set its own to (default 1 GiB). */
  quotaBytes: number;
}

/** A byte count; unset or empty is `fallback` (wrangler passes an empty `[vars]` entry as ""). */
const Bytes = (fallback: number) =>
  z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.coerce
      .number("must be a whole number of bytes")
      .int("must be a whole number of bytes")
      .min(0, "must not be negative")
      .max(1024 * GiB, "must be at most 1 TiB")
      .default(fallback),
  );

/**
 * The module's variables with their schemas: declared in its manifest (`variables`), so the
 * config check that answers every request names a bad one as `config_invalid`.
 */
export const FILES_VARIABLES = { FILES_MAX_BYTES: Bytes(50 * MiB), FILES_QUOTA_BYTES: Bytes(GiB) };

const LimitsSchema = z.object(FILES_VARIABLES);

/**
 * The limits of this deployment from its env (optional variables outside
 * wrangler.toml, so not in the generated `Env`). Throws naming the variable,
 * never its value, when one does not parse; a request never meets that, since
 * the config check has run the same schemas first.
 *
 * @example
 * fileLimits({ FILES_MAX_BYTES: "1048576" }).maxFileBytes; // 1048576
 */
export function fileLimits(env: object): FileLimits {
  const raw = {
    FILES_MAX_BYTES: Reflect.get(env, "FILES_MAX_BYTES"),
    FILES_QUOTA_BYTES: Reflect.get(env, "FILES_QUOTA_BYTES"),
  };
  const parsed = LimitsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join("; "));
  }
  return { maxFileBytes: parsed.data.FILES_MAX_BYTES, quotaBytes: parsed.data.FILES_QUOTA_BYTES };
}

/**
 * The media types a file may have. Nothing a browser would run as a page
 * (`text/html`, `image/svg+xml`, `application/xhtml+xml`), and not the
 * catch-all `application/octet-stream`: an upload names what it is. A product
 * changes the list here; it is also the upload's `requestBody` in
 * `/openapi.json`.
 */
export const ALLOWED_TYPES = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/avif",
  "application/pdf",
  "text/plain",
  "text/csv",
  "text/markdown",
  "application/json",
  "application/zip",
  "application/gzip",
  "audio/mpeg",
  "video/mp4",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
] as const;

const ALLOWED: ReadonlySet<string> = new Set(ALLOWED_TYPES);

/**
 * The file-name extensions each type is saved under, its usual one first. A browser saves a
 * download under the name it is offered, whatever its `Content-Type`, and the desktop then
 * opens the saved file by that extension: `invoice.html` uploaded as `text/plain` would run as
 * a page, `setup.hta` as an HTML Application, `x.exe` as a program. A type added to
 * {@link ALLOWED_TYPES} needs its extensions here (the compiler asks for them).
 */
const EXTENSIONS: Record<(typeof ALLOWED_TYPES)[number], readonly [string, ...string[]]> = {
  "image/png": ["png"],
  "image/jpeg": ["jpg", "jpeg", "jpe", "jfif"],
  "image/gif": ["gif"],
  "image/webp": ["webp"],
  "image/avif": ["avif"],
  "application/pdf": ["pdf"],
  "text/plain": ["txt", "text", "log"],
  "text/csv": ["csv"],
  "text/markdown": ["md", "markdown"],
  "application/json": ["json"],
  "application/zip": ["zip"],
  "application/gzip": ["gz", "tgz"],
  "audio/mpeg": ["mp3"],
  "video/mp4": ["mp4"],
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ["docx"],
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ["xlsx"],
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": ["pptx"],
};
const EXTENSIONS_OF: ReadonlyMap<string, readonly [string, ...string[]]> = new Map(Object.entries(EXTENSIONS));

/**
 * The media type a file is stored and served with, from the upload's
 * `Content-Type`: its essence, lower-cased, when the allow-list has it (a text
 * type keeps a well-formed `charset`); null otherwise.
 *
 * @example
 * storedType("Text/Plain; charset=UTF-8"); // "text/plain; charset=utf-8"
 * storedType("text/html"); // null
 */
export function storedType(header: string | undefined): string | null {
  if (header === undefined) return null;
  const [essence = "", ...params] = header.split(";").map((p) => p.trim().toLowerCase());
  if (!ALLOWED.has(essence)) return null;
  if (!essence.startsWith("text/")) return essence;
  const charset = params.map((p) => /^charset="?([a-z0-9._-]{1,40})"?$/.exec(p)?.[1]).find((c) => c !== undefined);
  return charset ? `${essence}; charset=${charset}` : essence;
}

/** Characters no common file system takes in a name. */
const RESERVED = /[<>:"/\\|?*]/g;
/**
 * The longest name, in bytes of UTF-8: what ext4 and most Unix file systems keep (255 bytes),
 * and within NTFS's and APFS's 255 UTF-16 units, since no character takes more UTF-16 units
 * than UTF-8 bytes. Counted in characters, 255 emoji were a 1,020-byte name no disk saves whole.
 */
export const MAX_NAME_BYTES = 255;

const encoder = new TextEncoder();

/** The length of `s` in bytes of UTF-8. */
export const utf8Length = (s: string) => encoder.encode(s).length;

/** Grapheme clusters: what a reader sees as one character (an emoji ZWJ sequence, a flag, é as e + ́). */
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * The longest prefix of `s` of whole characters within `max` bytes of UTF-8: whole grapheme
 * clusters, so a cut never leaves half an emoji sequence (a family cut after a joiner, a
 * flag's tags without their end).
 */
function cutToBytes(s: string, max: number): string {
  let used = 0;
  let out = "";
  for (const { segment: ch } of graphemes.segment(s)) {
    used += utf8Length(ch);
    if (used > max) break;
    out += ch;
  }
  return out;
}

/**
 * A name as it would be stored, before its length is checked: the last path segment,
 * NFC-normalised, without control or invisible format characters (but for those that join
 * visible ones: emoji sequences, Persian and Indic joiners; name-chars.ts), reserved characters
 * replaced by `_`, blank runs collapsed, no leading or trailing dots or blanks.
 *
 * @example
 * cleanName("../a\u202Eb.txt"); // "ab.txt"
 */
export function cleanName(raw: string): string {
  const last = raw.split(/[/\\]/).at(-1) ?? "";
  return (
    withoutInvisible(last.normalize("NFC"))
      .replace(RESERVED, "_")
      .replace(/\s+/g, " ")
      // Leading dots go, so no download is saved as a hidden file (docs/files.md, "leading dots");
      // a joiner or selector left at an edge by the cut joins nothing.
      .replace(/^[\s.\p{Join_Control}\p{Variation_Selector}]+|[\s.\p{Join_Control}]+$/gu, "")
  );
}

/**
 * A file name safe to store and to offer for saving: {@link cleanName}, at most
 * {@link MAX_NAME_BYTES} bytes of UTF-8 (the upload refuses a longer one, so the cut here only
 * guards); `fallback` when nothing is left.
 *
 * @example
 * safeName("../../etc/passwd", "file"); // "passwd"
 * safeName("  ..  ", "file"); // "file"
 */
export function safeName(raw: string | undefined, fallback: string): string {
  const cut = cutToBytes(cleanName(raw ?? ""), MAX_NAME_BYTES);
  return cut === "" ? fallback : cut;
}

/**
 * `name` as a file of `contentType` is saved under: kept when its extension (after the last
 * dot, in any case) is one the type is saved under; else the type's usual extension is added.
 * A name without an extension gets one too: a desktop guesses the type of such a file from
 * its bytes (an HTML page opens in the browser). So the type the upload was checked against
 * is also what the saved file opens as. The result is at most {@link MAX_NAME_BYTES} bytes of
 * UTF-8, the name before the extension cut by whole characters to fit it (a name stored before
 * the limit was in bytes is offered so too). Idempotent, so the download applies it again.
 *
 * @example
 * typedName("invoice.html", "text/plain; charset=utf-8"); // "invoice.html.txt"
 * typedName("Photo.JPEG", "image/jpeg"); // "Photo.JPEG"
 */
export function typedName(name: string, contentType: string): string {
  const extensions = EXTENSIONS_OF.get(contentType.split(";")[0]?.trim().toLowerCase() ?? "");
  const dot = name.lastIndexOf(".");
  // Its own extension when the type lists it (or the type is none the platform stores), else the type's usual one.
  const kept = dot > 0 && (!extensions || extensions.includes(name.slice(dot + 1).toLowerCase()));
  if (kept && utf8Length(name) <= MAX_NAME_BYTES) return name;
  const suffix = kept ? name.slice(dot) : extensions ? `.${extensions[0]}` : "";
  // Only a name put by other means under an unstored type has a suffix that leaves no room.
  if (utf8Length(suffix) >= MAX_NAME_BYTES) return cutToBytes(name, MAX_NAME_BYTES);
  const stem = kept ? name.slice(0, dot) : name;
  const base = cutToBytes(stem, MAX_NAME_BYTES - utf8Length(suffix)).replace(/[\s.]+$/, "");
  return `${base}${suffix}`;
}

/**
 * `Content-Disposition: attachment` for a stored name: an ASCII `filename`
 * for old clients and the exact name as `filename*` (RFC 6266, RFC 8187).
 *
 * @example
 * attachment("résumé.pdf"); // `attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`
 */
export function attachment(name: string): string {
  const ascii = Array.from(name, (ch) => (/^[\x20-\x7e]$/.test(ch) && ch !== '"' && ch !== "\\" ? ch : "_")).join("");
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** What a `Range` header asks of a file of a given size. */
export type RangeAsk =
  | { kind: "full" }
  | { kind: "partial"; offset: number; length: number }
  | { kind: "unsatisfiable" };

/**
 * The part of a `size`-byte file a `Range` header asks for (RFC 9110 §14):
 * one `bytes=` range, from-to, from-, or a suffix `-n`. No header, another
 * unit, several ranges or a malformed one ask for the whole file (a server
 * may ignore `Range`); a range starting at or past the end, or an empty
 * suffix, is unsatisfiable. A non-empty suffix of an empty file is
 * satisfiable (RFC 9110 §14.1.2: the only range that is), but no 206 can
 * describe zero bytes, so it asks for the whole, empty, file.
 *
 * @example
 * askedRange("bytes=0-99", 1000); // { kind: "partial", offset: 0, length: 100 }
 * askedRange("bytes=-10", 1000); // { kind: "partial", offset: 990, length: 10 }
 * askedRange("bytes=1000-", 1000); // { kind: "unsatisfiable" }
 */
export function askedRange(header: string | undefined, size: number): RangeAsk {
  if (header === undefined) return { kind: "full" };
  const m = /^\s*bytes\s*=\s*(\d{0,16})\s*-\s*(\d{0,16})\s*$/i.exec(header);
  if (!m) return { kind: "full" };
  const [, from = "", to = ""] = m;
  if (from === "" && to === "") return { kind: "full" };
  if (from === "") {
    const suffix = Number(to);
    if (suffix === 0) return { kind: "unsatisfiable" };
    if (size === 0) return { kind: "full" };
    const length = Math.min(suffix, size);
    return { kind: "partial", offset: size - length, length };
  }
  const offset = Number(from);
  if (to !== "" && Number(to) < offset) return { kind: "full" };
  if (offset >= size) return { kind: "unsatisfiable" };
  const last = to === "" ? size - 1 : Math.min(Number(to), size - 1);
  return { kind: "partial", offset, length: last - offset + 1 };
}

/** A file id as plinth makes them (kernel `newId`: 26 characters of Crockford base32). */
export const isFileId = isNewId;

/** The R2 key of a tenant's file: under the tenant's prefix, so no request of one tenant can name another's. */
export const objectKey = (tenantId: string, fileId: string) => `${tenantId}/${fileId}`;
