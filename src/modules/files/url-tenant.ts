import type { Context } from "hono";
import type { AppEnv } from "../../kernel/env";
import { isFileId } from "./policy";
import { requireMintedForm, SignedQuery } from "./signed-url";
import { verifyDownload } from "./signing";

/** A signed download's path: the file id is the one variable part. */
const DOWNLOAD_PATH = /^\/api\/v1\/files\/([^/]+)\/download$/;

/**
 * The tenant a signed download URL proves, for the CORS preflight a page sends before a
 * GET with a `Range`, `If-None-Match` or `Want-*` header (kernel/http/cors.ts): the
 * preflight never reaches the route, and on the main host nothing else names a tenant.
 * The same checks as the download's, so a URL its GET would refuse (another spelling, a
 * signature that does not verify, an expired one) proves nothing; no D1, no Durable Object.
 * Never throws: a preflight it cannot read gets no CORS.
 */
export async function signedUrlTenant(c: Context<AppEnv>): Promise<string | undefined> {
  try {
    const url = new URL(c.req.url);
    const id = DOWNLOAD_PATH.exec(url.pathname)?.[1];
    if (id === undefined || !isFileId(id)) return undefined;
    const parsed = SignedQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!parsed.success) return undefined;
    requireMintedForm(c.req.url, id, parsed.data);
    const keys = c.get("config").encryptionKeys;
    if (!keys) return undefined;
    return (await verifyDownload(keys, id, parsed.data, c.get("clock").now())) === "ok"
      ? parsed.data.tenant
      : undefined;
  } catch {
    return undefined;
  }
}
