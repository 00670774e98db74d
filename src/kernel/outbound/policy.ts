import { hostName } from "../http/host-name";
import { type AddressClass, classifyIp, isMetadataHostname, parseIp, parseIpv4Loose } from "./address";

/**
 * Where outbound requests to tenant-supplied URLs may go. `development` (under
 * `wrangler dev`) additionally lets requests reach this machine: `http://` and
 * `https://` to `localhost`, `127.0.0.0/8` and `[::1]`, so a receiver running
 * beside the Worker works; and stops refusing local-looking names (`*.local`,
 * single labels), which then stand or fall by what they resolve to.
 *
 * @example
 * const policy: OutboundPolicy = { development: config.environment === "development" };
 */
export interface OutboundPolicy {
  development: boolean;
}

/** The verdict on a URL: the parsed URL, or why it is refused (fit for a 400 response). */
export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** The longest URL accepted, in characters. */
export const MAX_URL_LENGTH = 2048;

// Names that only mean something on a local network or inside a provider's network.
const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa"];

const DESCRIPTIONS: Record<Exclude<AddressClass, "public">, string> = {
  private: "a private network address",
  loopback: "a loopback address",
  link_local: "a link-local address",
  metadata: "a cloud metadata address",
  unspecified: "an unspecified address",
  multicast: "a multicast address",
  reserved: "a reserved address",
  shared: "a carrier-grade NAT address",
};

/**
 * Checks a tenant-supplied URL before anything is sent to it: https only (http to
 * loopback in development), no user name or password, at most 2048 characters, and a
 * host that is a public IP address or a public-looking name. A name still has to
 * resolve to public addresses: `safeFetch` checks that when it sends.
 *
 * @example
 * const check = checkUrl(body.url, policy);
 * if (!check.ok) throw new AppError("validation_failed", check.reason);
 */
export function checkUrl(raw: string, policy: OutboundPolicy): UrlCheck {
  if (raw.length > MAX_URL_LENGTH) return refuse(`URL is too long (at most ${MAX_URL_LENGTH} characters)`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse("not a valid URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return refuse("URL must use https");
  if (url.username !== "" || url.password !== "") return refuse("URL must not contain a user name or password");

  const host = hostOf(url);
  if (host === "") return refuse("URL has no host");
  let loopback = false;
  if (isIpLiteral(host)) {
    const verdict = addressVerdict(host, policy);
    if (verdict !== null) return refuse(`URL points to ${verdict}`);
    loopback = classifyIp(host) === "loopback";
  } else {
    const refusal = nameRefusal(host, policy);
    if (refusal !== null) return refuse(refusal);
    loopback = host === "localhost";
  }

  if (url.protocol === "http:" && !(policy.development && loopback)) {
    return refuse(
      policy.development ? "http is allowed only for localhost in development; use https" : "URL must use https",
    );
  }
  return { ok: true, url };
}

/**
 * Why an address may not be sent to under the policy, as the end of a sentence
 * ("a private network address"), or null when it may: public addresses, and
 * loopback in development.
 *
 * @example
 * const why = addressVerdict("10.0.0.7", policy); // "a private network address"
 */
export function addressVerdict(ip: string, policy: OutboundPolicy): string | null {
  const cls = classifyIp(ip);
  if (cls === "public") return null;
  if (cls === "loopback" && policy.development) return null;
  return DESCRIPTIONS[cls];
}

/**
 * The URL's host as the checks see it: lower case, IPv6 without brackets, no trailing
 * dot (`localhost.` is `localhost`).
 *
 * @example
 * hostOf(new URL("https://[::1]:8443/")); // "::1"
 */
export function hostOf(url: URL): string {
  const host = hostName(url);
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/**
 * Whether a host (as `hostOf` gives it) is an IP address rather than a name. Numeric
 * notations the URL parser would read as IPv4 count as addresses, so they cannot pass
 * as names.
 *
 * @example
 * isIpLiteral("::1"); // true
 * isIpLiteral("example.com"); // false
 */
export function isIpLiteral(host: string): boolean {
  return parseIp(host) !== null || parseIpv4Loose(host) !== null;
}

function nameRefusal(host: string, policy: OutboundPolicy): string | null {
  // Metadata names are refused even in development: nothing legitimate answers there.
  if (isMetadataHostname(host)) return "URL points to a cloud metadata service";
  if (policy.development) return null;
  if (host === "localhost") return "URL points to this machine (localhost)";
  const local = LOCAL_SUFFIXES.some((suffix) => host.endsWith(suffix) || host === suffix.slice(1));
  if (!host.includes(".") || local) {
    return "URL must name a public host, not a local or internal name";
  }
  return null;
}

function refuse(reason: string): UrlCheck {
  return { ok: false, reason };
}
