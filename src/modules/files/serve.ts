import type { Context } from "hono";
import type { AppEnv } from "../../kernel/env";
import { AppError, moduleError } from "../../kernel/errors";
import { formatHttpDate } from "../../kernel/http/http-date";
import { errorFields } from "../../kernel/log";
import { readModels } from "../../kernel/read-models";
import { preconditions, rangeApplies } from "./conditions";
import { askedDigests, digestHeaders } from "./digests";
import { fileErrors } from "./errors";
import { askedRange, attachment, isFileId, objectKey, type RangeAsk, typedName } from "./policy";
import { recordedSha256 } from "./read-model";

/** A download may not run as a page, whatever its type: no scripts, no plugins, no framing. */
const DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'";

export const fileNotFound = () => new AppError("not_found", { detail: "no such file" });

/**
 * The file's recorded SHA-256, read beside the object. R2 cannot keep it:
 * its `sha256` put option needs the digest before the first byte streams,
 * and an upload learns it only after the last one. A failed read serves the
 * file without digests rather than failing it: the bytes are the answer, the
 * digest an addition.
 */
async function recordedDigest(c: Context<AppEnv>, tenantId: string, id: string): Promise<string | null> {
  try {
    return await recordedSha256(readModels(c.env), tenantId, id);
  } catch (error) {
    c.get("log").warn("file digest not read; the file is served without one", errorFields(error));
    return null;
  }
}

/** 412 for a false `If-Match` or `If-Unmodified-Since`, with the validators the client can try again with. */
function preconditionFailed(field: string, head: R2Object): AppError {
  const stored = formatHttpDate(head.uploaded.getTime());
  return new AppError("version_conflict", {
    detail: `${field} is false: the file's ETag is ${head.httpEtag}, stored ${stored}`,
    headers: { ETag: head.httpEtag, "Last-Modified": stored },
  });
}

/**
 * A write's `If-Match`, `If-Unmodified-Since` and `If-None-Match` (RFC 9110 §13.2.2, steps 1
 * to 3) against the stored object: 412 when false, 404 when there is no object (but for an
 * `If-None-Match` alone, true then: nothing matches); nothing read without them.
 * `If-None-Match` naming the file is false, which a GET answers 304 and a write 412
 * (§13.1.2): it was ignored, and "delete unless it is the copy I have" deleted that copy.
 * `If-Modified-Since` is for GET and HEAD only (§13.1.3). A file never changes, so only its
 * deletion can come between this check and the write.
 */
export async function requireWritePreconditions(c: Context<AppEnv>, tenantId: string, id: string): Promise<void> {
  const ifMatch = c.req.header("if-match");
  const ifUnmodifiedSince = c.req.header("if-unmodified-since");
  const ifNoneMatch = c.req.header("if-none-match");
  if (ifMatch === undefined && ifUnmodifiedSince === undefined && ifNoneMatch === undefined) return;
  const head = await c.env.FILES.head(objectKey(tenantId, id));
  if (!head) {
    if (ifMatch === undefined && ifUnmodifiedSince === undefined) return;
    throw fileNotFound();
  }
  const verdict = preconditions(
    { ifMatch, ifUnmodifiedSince, ifNoneMatch },
    { etag: head.httpEtag, lastModified: head.uploaded.getTime() },
  );
  if (verdict.kind === "failed") throw preconditionFailed(verdict.field, head);
  if (verdict.kind === "not_modified") throw preconditionFailed("If-None-Match", head);
}

// no-transform: an intermediary that compressed the bytes (Cloudflare does for text types) would make the digests lie.
const DOWNLOAD_CACHE_CONTROL = "private, no-store, no-transform";

/**
 * Streams a tenant's file from R2 through the Worker: the whole file (200)
 * or one byte range (206 with `Content-Range`; 416 `range_not_satisfiable`
 * when it names no byte), or 304 with no body when `If-None-Match` names
 * its ETag (a client's copy is current: objects never change once stored), with its type, `ETag`, `Accept-Ranges`,
 * `Content-Disposition: attachment` with its safe name, and the RFC 9530 digests asked for. The key is made from
 * `tenantId`, which the caller took from the credential or the verified
 * signature, never from input: another tenant's id answers 404 like one that
 * never existed.
 */
export async function serveFile(c: Context<AppEnv>, tenantId: string, id: string): Promise<Response> {
  if (!isFileId(id)) throw fileNotFound();
  const key = objectKey(tenantId, id);
  // Ranges are defined for GET only (RFC 9110 §14.2): a HEAD answers the whole file's length.
  const range = c.req.method === "GET" ? c.req.header("range") : undefined;
  const conditions = {
    ifMatch: c.req.header("if-match"),
    ifUnmodifiedSince: c.req.header("if-unmodified-since"),
    ifNoneMatch: c.req.header("if-none-match"),
    ifModifiedSince: c.req.header("if-modified-since"),
  };
  const digests = askedDigests(c.req.header("want-repr-digest"), c.req.header("want-content-digest"), c.req.method);
  // Read beside R2's answer, not after it; never when no digest would be sent.
  const sha256 = digests.repr || digests.content ? recordedDigest(c, tenantId, id) : Promise.resolve(null);
  let ask: RangeAsk = { kind: "full" };
  // The metadata, when read for the conditions: a HEAD then needs nothing more of R2.
  let metadata: R2Object | null = null;
  if (range !== undefined || Object.values(conditions).some((v) => v !== undefined)) {
    // The ETag, the date and the size decide what the conditions and a range mean: the metadata first.
    const head = await c.env.FILES.head(key);
    if (!head) throw fileNotFound();
    metadata = head;
    const validators = { etag: head.httpEtag, lastModified: head.uploaded.getTime() };
    const verdict = preconditions(conditions, validators);
    if (verdict.kind === "failed") throw preconditionFailed(verdict.field, head);
    if (verdict.kind === "not_modified") {
      return new Response(null, {
        status: 304,
        headers: {
          ETag: head.httpEtag,
          "Last-Modified": formatHttpDate(validators.lastModified),
          // The 200's own (RFC 9110 15.4.5: a 304 sends the Cache-Control the 200 would).
          "Cache-Control": DOWNLOAD_CACHE_CONTROL,
        },
      });
    }
    if (range !== undefined && rangeApplies(c.req.header("if-range"), validators)) ask = askedRange(range, head.size);
    if (ask.kind === "unsatisfiable") {
      throw moduleError(fileErrors, "range_not_satisfiable", {
        detail: `the file has ${head.size} bytes`,
        headers: { "Content-Range": `bytes */${head.size}` },
      });
    }
  }
  // A HEAD sends no bytes (Hono drops the body): R2's metadata answers it, no object body opened.
  const isHead = c.req.method === "HEAD";
  const opened = isHead
    ? null
    : await c.env.FILES.get(key, ask.kind === "partial" ? { range: { offset: ask.offset, length: ask.length } } : {});
  const object = isHead ? (metadata ?? (await c.env.FILES.head(key))) : opened;
  if (!object) throw fileNotFound();
  const body = opened?.body ?? null;
  const contentType = object.httpMetadata?.contentType ?? "application/octet-stream";
  const headers = new Headers({
    "Content-Type": contentType,
    // Stored typed since uploads are (policy.ts typedName); applied again for a name stored before.
    "Content-Disposition": attachment(typedName(object.customMetadata?.name ?? id, contentType)),
    "Content-Security-Policy": DOWNLOAD_CSP,
    "Cache-Control": DOWNLOAD_CACHE_CONTROL,
    "Accept-Ranges": "bytes",
    ETag: object.httpEtag,
    "Last-Modified": formatHttpDate(object.uploaded.getTime()),
    ...digestHeaders(digests, await sha256, ask.kind === "partial"),
  });
  if (ask.kind === "partial") {
    headers.set("Content-Length", String(ask.length));
    headers.set("Content-Range", `bytes ${ask.offset}-${ask.offset + ask.length - 1}/${object.size}`);
    return new Response(body, { status: 206, headers });
  }
  headers.set("Content-Length", String(object.size));
  return new Response(body, { status: 200, headers });
}
