/**
 * The eight groups of an IPv6 address, lowercase and without leading zeros, `::` expanded;
 * fewer when the text is not a full address (the caller decides what that means).
 *
 * @example
 * ipv6Groups("2001:DB8::0001"); // ["2001", "db8", "0", "0", "0", "0", "0", "1"]
 */
export function ipv6Groups(ip: string): string[] {
  const [head = "", tail] = ip.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}

/**
 * What Cloudflare puts in `CF-Connecting-IP` of every Worker subrequest from another Cloudflare
 * zone, in place of the address of the visitor that started it ("for security reasons"):
 * https://developers.cloudflare.com/fundamentals/reference/http-headers/#cf-connecting-ip-in-worker-subrequests
 */
const CROSS_ZONE_WORKER_ADDRESS = ipv6Groups("2a06:98c0:3600::103").join(":");

/** A zone name as `CF-Worker` carries one: lowercase labels of letters, digits and hyphens, dot-separated. */
const ZONE_NAME = /^[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})+$/;

/**
 * The zone of the Worker that sent a request from another Cloudflare zone (`CF-Worker`, lower case),
 * or null for any other client. Every such Worker reaches plinth from Cloudflare's one Worker
 * address, so the zone is what tells them apart: the rate limiter counts them by it
 * (ratelimit/middleware.ts `clientBucket`), and `ip_hash` hashes it (client-ip.ts).
 *
 * `CF-Worker` is believed only from that address: Cloudflare does not document that it strips one
 * an ordinary client sends, but no client chooses its `CF-Connecting-IP`. A value that is no zone
 * name is not believed either (docs/gateway.md, "Requests from other Workers").
 *
 * @example
 * crossZoneWorker("2a06:98c0:3600::103", "Example.com"); // "example.com"
 * crossZoneWorker("203.0.113.7", "example.com");         // null
 */
export function crossZoneWorker(address: string | undefined, worker: string | undefined): string | null {
  const zone = worker?.trim().toLowerCase();
  const ip = address?.trim().slice(0, 64).toLowerCase();
  if (!zone || !ip?.includes(":") || zone.length > 253 || !ZONE_NAME.test(zone)) return null;
  return ipv6Groups(ip).join(":") === CROSS_ZONE_WORKER_ADDRESS ? zone : null;
}
