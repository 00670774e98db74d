import type { Context } from "hono";
import { derivedKey } from "../crypto/derived-key";
import { hash } from "../crypto/hash";
import { toHex } from "../crypto/tokens";
import type { AppEnv } from "../env";
import { crossZoneWorker } from "./cross-zone-worker";

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
 * A Worker of another Cloudflare zone is hashed as `worker:<zone>`, the client the rate limiter
 * counts (cross-zone-worker.ts): every such Worker arrives from Cloudflare's one Worker address,
 * so by address an operator could not tell one tenant's integrations apart in sessions and audit
 * entries. Any other client is hashed by its address as given, as it always was: an IPv6 one is
 * not cut to the /64 the limiter counts, since it identifies a host in the log, not a bucket, and
 * the hashes recorded before stay comparable with new ones.
 *
 * @example
 * const ipHash = clientIpHash(c); // a request's whole origin, this with it: originOf(c) (kernel/events/origin)
 */
export function clientIpHash(c: Context<AppEnv>): string | null {
  const ip = c.req.header("cf-connecting-ip")?.trim();
  const tenantId = c.get("tenant")?.id;
  const secret = c.get("config").ipHashKey;
  if (!ip || ip.length > 64 || !tenantId || !secret) return null;
  const zone = crossZoneWorker(ip, c.req.header("cf-worker"));
  // No address contains "worker:", so a zone's hash is never an address's.
  const client = zone ? `worker:${zone}` : ip;
  const digest = hash.blake2b(encoder.encode(`${tenantId}\u0000${client}`), {
    key: ipKey(secret),
    outLen: HASH_BYTES,
  });
  return toHex(digest);
}
