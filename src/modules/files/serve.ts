import type { Context } from "hono";
import type { AppEnv } from "../../kernel/env";
import { AppError, moduleError } from "../../kernel/errors";
import { fileErrors } from "./errors";
import { askedRange, attachment, isFileId, objectKey, type RangeAsk } from "./policy";

/** A download may not run as a page, whatever its type: no scripts, no plugins, no framing. */
const DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'";

export const fileNotFound = () => new AppError("not_found", { detail: "no such file" });

/** Whether `If-Range` (absent, or naming the current ETag) lets a `Range` apply; a stale one asks for the whole file. */
const rangeApplies = (ifRange: string | undefined, etag: string) => ifRange === undefined || ifRange.trim() === etag;

/** Whether `If-None-Match` is `*` or names `etag` (the weak comparison RFC 9110 asks for here). */
function unchanged(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || opaque(tag) === opaque(etag));
}

/**
 * Streams a tenant's file from R2 through the Worker: the whole file (200)
 * or one byte range (206 with `Content-Range`; 416 `range_not_satisfiable`
 * when it names no byte), or 304 with no body when `If-None-Match` names
 * its ETag (a client's copy is current: objects never change once stored), with its type, `ETag`, `Accept-Ranges`, and
 * `Content-Disposition: attachment` with its safe name. The key is made from
 * `tenantId`, which the caller took from the credential or the verified
 * signature, never from input: another tenant's id answers 404 like one that
 * never existed.
 */
export async function serveFile(c: Context<AppEnv>, tenantId: string, id: string): Promise<Response> {
  if (!isFileId(id)) throw fileNotFound();
  const key = objectKey(tenantId, id);
  const range = c.req.header("range");
  const ifNoneMatch = c.req.header("if-none-match");
  let ask: RangeAsk = { kind: "full" };
  if (range !== undefined || ifNoneMatch !== undefined) {
    // The ETag and the size decide what the conditions and a range mean: the metadata first.
    const head = await c.env.FILES.head(key);
    if (!head) throw fileNotFound();
    if (unchanged(ifNoneMatch, head.httpEtag)) {
      return new Response(null, {
        status: 304,
        headers: { ETag: head.httpEtag, "Cache-Control": "private, no-store" },
      });
    }
    if (range !== undefined && rangeApplies(c.req.header("if-range"), head.httpEtag))
      ask = askedRange(range, head.size);
    if (ask.kind === "unsatisfiable") {
      throw moduleError(fileErrors, "range_not_satisfiable", {
        detail: `the file has ${head.size} bytes`,
        headers: { "Content-Range": `bytes */${head.size}` },
      });
    }
  }
  const object = await c.env.FILES.get(
    key,
    ask.kind === "partial" ? { range: { offset: ask.offset, length: ask.length } } : {},
  );
  if (!object) throw fileNotFound();
  const headers = new Headers({
    "Content-Type": object.httpMetadata?.contentType ?? "application/octet-stream",
    "Content-Disposition": attachment(object.customMetadata?.name ?? id),
    "Content-Security-Policy": DOWNLOAD_CSP,
    "Cache-Control": "private, no-store",
    "Accept-Ranges": "bytes",
    ETag: object.httpEtag,
  });
  if (ask.kind === "partial") {
    headers.set("Content-Length", String(ask.length));
    headers.set("Content-Range", `bytes ${ask.offset}-${ask.offset + ask.length - 1}/${object.size}`);
    return new Response(object.body, { status: 206, headers });
  }
  headers.set("Content-Length", String(object.size));
  return new Response(object.body, { status: 200, headers });
}
