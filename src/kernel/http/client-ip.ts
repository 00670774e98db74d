import type { Context } from "hono";
import { derivedKey } from "../crypto/derived-key";
import { hash } from "../crypto/hash";
import { toHex } from "../crypto/tokens";
import type { AppEnv } from "../env";

const encoder = new TextEncoder();
const HASH_BYTES = 16;

const ipKey = derivedKey("plinth ip hash");

/**
 * The audit log's `ip_hash` of the request's client: hex BLAKE2b-128 of
 * `<tenant id>\0<ip>`, keyed by a key derived from `IP_HASH_KEY` (else `PLATFORM_ROOT_KEY`). Keyed,
 * because the IPv4 space is small enough to hash exhaustively; salted by the
 * tenant, so the same address is not linkable across tenants. Null without a
 * tenant or when the runtime did not report the client's address
 * (`CF-Connecting-IP`, set by Cloudflare's edge and by `wrangler dev`).
 *
 * @example
 * const ctx = { now, actor, requestId: c.get("requestId"), ipHash: clientIpHash(c) };
 */
export function clientIpHash(c: Context<AppEnv>): string | null {
  const ip = c.req.header("cf-connecting-ip")?.trim();
  const tenantId = c.get("tenant")?.id;
  const secret = c.get("config").ipHashKey;
  if (!ip || ip.length > 64 || !tenantId || !secret) return null;
  const digest = hash.blake2b(encoder.encode(`${tenantId}\u0000${ip}`), { key: ipKey(secret), outLen: HASH_BYTES });
  return toHex(digest);
}
