import { z } from "@hono/zod-openapi";
import { parseIfMatch } from "../../kernel/http/if-match";

/**
 * What `/openapi.json` says of a file download, shared by the credentialed
 * route and the signed URL's: they serve the same way (`serve.ts`).
 */

/** Bytes of any type, as OpenAPI says it (a plain schema: no validator reads or buffers the body). */
export const BINARY = { type: "string" as const, format: "binary" };

const reprDigest = {
  description:
    "`sha-256=:<base64>:` (RFC 9530): the whole file's SHA-256, on a 206 too; absent for a file with none recorded, or when `Want-Repr-Digest` excludes sha-256",
  schema: { type: "string" as const },
};
const contentDigest = {
  description:
    "`sha-256=:<base64>:` (RFC 9530), the same as `Repr-Digest`: only when `Want-Content-Digest` asks for sha-256",
  schema: { type: "string" as const },
};

/** The digest preferences a download reads (RFC 9530 §4): a Dictionary of algorithms to 0–10. */
export const WantDigestHeaders = z.object({
  "want-repr-digest": z.string().max(512).optional().openapi({
    description:
      "e.g. `sha-256=5`: a value that lists sha-256 at 0 or not at all gets no `Repr-Digest` (sent by default)",
  }),
  "want-content-digest": z.string().max(512).optional().openapi({
    description: "e.g. `sha-256=5`: asks for `Content-Digest` on a 200 (never on a 206 or a HEAD)",
  }),
});

/**
 * The conditional fields a download honours (RFC 9110 §13, `conditions.ts`), and `Range`:
 * declared so `/openapi.json` says what each does; the handler reads them as they came.
 */
const described = (description: string) => z.string().optional().openapi({ description });
/** `If-Match` in the API's one grammar (kernel/http/if-match.ts): `*` or entity-tags, else 400 naming it. */
const ifMatch = (description: string) =>
  z
    .string()
    .refine((v) => parseIfMatch(v).kind !== "invalid", { message: 'entity-tags ("…", W/"…") or *' })
    .optional()
    .openapi({ description });
export const DownloadHeaders = WantDigestHeaders.extend({
  range: described("one `bytes=` range (206); several, another unit or a malformed one get the whole file; GET only"),
  "if-match": ifMatch("the file's `ETag` (strongly compared) or `*`; otherwise 412 `version_conflict`"),
  "if-unmodified-since": described(
    "an HTTP-date; 412 `version_conflict` when the file was stored after it (ignored with `If-Match`)",
  ),
  "if-none-match": described("the file's `ETag` (weakly compared) or `*`: 304 with no body"),
  "if-modified-since": described("an HTTP-date: 304 when the file was stored no later (ignored with `If-None-Match`)"),
  "if-range": described("the file's `ETag` or `Last-Modified`: the `Range` applies only then, else the whole file"),
});

/** What a DELETE may be made conditional on: the file a client saw (`serve.ts` requireWritePreconditions). */
export const WriteConditionHeaders = z.object({
  "if-match": ifMatch(
    "the file's `ETag` (strongly compared) or `*`; otherwise 412 `version_conflict`, nothing deleted",
  ),
  "if-unmodified-since": described("an HTTP-date; 412 `version_conflict` when the file was stored after it"),
  "if-none-match": described(
    "entity-tags or `*`: 412 `version_conflict` when one names the file (weakly compared), nothing deleted",
  ),
});

/** The stored object's validators, on every download answer: what the conditional fields compare. */
const FILE_ETAG = {
  ETag: {
    description: "the file's entity tag: send it in `If-None-Match` (304), `If-Match` or `If-Range`",
    required: true,
    schema: { type: "string" as const },
  },
  "Last-Modified": {
    description:
      "when the file was stored (it never changes): for `If-Modified-Since`, `If-Unmodified-Since`, `If-Range`",
    required: true,
    schema: { type: "string" as const },
  },
};

/** The answers both download routes share. */
export const DOWNLOAD_RESPONSES = {
  200: {
    description: "the file's bytes",
    headers: { ...FILE_ETAG, "Repr-Digest": reprDigest, "Content-Digest": contentDigest },
    content: { "*/*": { schema: BINARY } },
  },
  206: {
    description: "the byte range asked for (`Content-Range`); `Repr-Digest` is still the whole file's",
    headers: { ...FILE_ETAG, "Repr-Digest": reprDigest },
    content: { "*/*": { schema: BINARY } },
  },
  304: {
    description:
      "not modified: `If-None-Match` names the file's `ETag`, or `If-Modified-Since` is no earlier than it was stored (no body)",
    headers: FILE_ETAG,
  },
} as const;
