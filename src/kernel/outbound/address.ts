/**
 * What kind of destination an IP address is, for refusing outbound requests that
 * would reach something other than the public internet (SSRF). Written from the
 * IANA special-purpose address registries (RFC 6890 and successors); no package.
 */

/** The kinds of destination; only "public" is a place a tenant's webhook may point. */
export type AddressClass =
  | "public"
  | "private"
  | "loopback"
  | "link_local"
  | "metadata"
  | "unspecified"
  | "multicast"
  | "reserved"
  | "shared";

/** A parsed address: 4 bytes for IPv4, 16 for IPv6, in network order. */
export type IpAddress = { version: 4; bytes: Uint8Array } | { version: 6; bytes: Uint8Array };

// First match wins, so the narrow entries (metadata) precede the ranges that contain them.
const IPV4_TABLE: ReadonlyArray<readonly [string, AddressClass]> = [
  ["0.0.0.0/8", "unspecified"], // "this network": connecting to it reaches the local host
  ["10.0.0.0/8", "private"],
  ["100.100.100.200/32", "metadata"], // Alibaba Cloud
  ["100.64.0.0/10", "shared"], // carrier-grade NAT (RFC 6598)
  ["127.0.0.0/8", "loopback"],
  ["169.254.169.254/32", "metadata"], // AWS, GCP, Azure, Oracle, DigitalOcean, ...
  ["169.254.170.2/32", "metadata"], // AWS ECS task credentials
  ["169.254.0.0/16", "link_local"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.192/32", "metadata"], // Oracle Cloud (classic)
  ["192.0.0.0/24", "reserved"], // IETF protocol assignments
  ["192.0.2.0/24", "reserved"], // documentation (TEST-NET-1)
  ["192.88.99.0/24", "reserved"], // deprecated 6to4 relay anycast
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "reserved"], // benchmarking
  ["198.51.100.0/24", "reserved"], // documentation (TEST-NET-2)
  ["203.0.113.0/24", "reserved"], // documentation (TEST-NET-3)
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"], // future use, and 255.255.255.255 broadcast
];

// An IPv6 range that carries an IPv4 address at `offset`: the packet ends up at that
// IPv4 address (directly, through a NAT64 gateway or a 6to4 relay), so it is judged as one.
const IPV6_EMBEDDING: ReadonlyArray<readonly [string, number]> = [
  ["::ffff:0:0/96", 12], // IPv4-mapped
  ["::ffff:0:0:0/96", 12], // IPv4-translated (SIIT)
  ["64:ff9b::/96", 12], // NAT64 well-known prefix
  ["2002::/16", 2], // 6to4
];

const IPV6_TABLE: ReadonlyArray<readonly [string, AddressClass]> = [
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["::/96", "reserved"], // deprecated IPv4-compatible
  ["64:ff9b:1::/48", "private"], // local-use NAT64 (RFC 8215)
  ["100::/64", "reserved"], // discard-only
  ["2001:db8::/32", "reserved"], // documentation
  ["2001::/23", "reserved"], // IETF protocol assignments, Teredo
  ["3fff::/20", "reserved"], // documentation (RFC 9637)
  ["5f00::/16", "reserved"], // SRv6 SIDs
  ["fd00:ec2::254/128", "metadata"], // AWS instance metadata over IPv6
  ["fc00::/7", "private"], // unique local
  ["fe80::/10", "link_local"],
  ["fec0::/10", "private"], // deprecated site-local
  ["ff00::/8", "multicast"],
  ["2000::/3", "public"], // global unicast
  ["::/0", "reserved"], // the rest of the space is unallocated
];

type Range = { bytes: Uint8Array; bits: number };

function range(cidr: string): Range {
  const [address = "", bits = ""] = cidr.split("/");
  const parsed = parseIp(address);
  if (!parsed) throw new Error(`bad range in the address table: ${cidr}`);
  return { bytes: parsed.bytes, bits: Number(bits) };
}

const V4 = IPV4_TABLE.map(([cidr, cls]) => ({ ...range(cidr), cls }));
const V6 = IPV6_TABLE.map(([cidr, cls]) => ({ ...range(cidr), cls }));
const V6_EMBEDDING = IPV6_EMBEDDING.map(([cidr, offset]) => ({ ...range(cidr), offset }));

function inRange(bytes: Uint8Array, r: Range): boolean {
  const whole = r.bits >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== r.bytes[i]) return false;
  const rest = r.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((bytes[whole] ?? 0) & mask) === ((r.bytes[whole] ?? 0) & mask);
}

function classifyV4(bytes: Uint8Array): AddressClass {
  return V4.find((r) => inRange(bytes, r))?.cls ?? "public";
}

function classifyV6(bytes: Uint8Array): AddressClass {
  const embedding = V6_EMBEDDING.find((r) => inRange(bytes, r));
  if (embedding) return classifyV4(bytes.subarray(embedding.offset, embedding.offset + 4));
  return V6.find((r) => inRange(bytes, r))?.cls ?? "reserved";
}

/**
 * The class of an IP address. IPv6 may be bracketed (`[::1]`, as `URL.hostname` gives
 * it); IPv4-mapped, NAT64 and 6to4 addresses are judged by the IPv4 address they carry.
 * IPv4 is read the way the WHATWG URL parser reads a host, so the odd notations it
 * accepts (`2130706433`, `0177.0.0.1`, `0x7f.1`) classify as the address they denote.
 * A string that is not an address at all is "reserved": a caller that passes a host
 * name by mistake refuses it rather than letting it through.
 *
 * @example
 * classifyIp("10.1.2.3"); // "private"
 * classifyIp("[::ffff:127.0.0.1]"); // "loopback"
 * classifyIp("169.254.169.254"); // "metadata"
 * classifyIp("2606:4700:4700::1111"); // "public"
 */
export function classifyIp(ip: string): AddressClass {
  const parsed = parseIp(ip) ?? parseIpv4Loose(ip);
  if (!parsed) return "reserved";
  return parsed.version === 4 ? classifyV4(parsed.bytes) : classifyV6(parsed.bytes);
}

/**
 * Parses an address in its plain notation: dotted-decimal IPv4, or IPv6 (optionally
 * bracketed, `::` compression, a trailing dotted IPv4). Zone ids (`fe80::1%eth0`) are
 * not accepted. Null for anything else, host names included.
 *
 * @example
 * parseIp("[::1]"); // { version: 6, bytes: Uint8Array(16) [0, …, 1] }
 * parseIp("example.com"); // null
 */
export function parseIp(text: string): IpAddress | null {
  const v4 = parseDottedQuad(text);
  if (v4) return { version: 4, bytes: v4 };
  const inner = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const v6 = parseIpv6(inner);
  return v6 ? { version: 6, bytes: v6 } : null;
}

/**
 * Parses IPv4 the way the WHATWG URL standard parses a host: one to four parts, each
 * decimal, octal (leading `0`) or hex (`0x`), the last filling the remaining bytes.
 * Null when the text is not such a number.
 *
 * @example
 * parseIpv4Loose("0177.1"); // { version: 4, bytes: [127, 0, 0, 1] }
 */
export function parseIpv4Loose(text: string): IpAddress | null {
  const parts = text.split(".");
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  if (parts.length === 0 || parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = parseIpv4Number(part);
    if (n === null) return null;
    numbers.push(n);
  }
  const last = numbers.pop() ?? 0;
  if (numbers.some((n) => n > 255)) return null;
  if (last >= 256 ** (4 - numbers.length)) return null;
  let value = last;
  numbers.forEach((n, i) => {
    value += n * 256 ** (3 - i);
  });
  const bytes = new Uint8Array([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
  return { version: 4, bytes };
}

function parseIpv4Number(part: string): number | null {
  if (part === "") return null;
  let digits = part;
  let radix = 10;
  if (/^0x/i.test(part)) {
    digits = part.slice(2);
    radix = 16;
  } else if (part.length > 1 && part.startsWith("0")) {
    digits = part.slice(1);
    radix = 8;
  }
  if (digits === "") return 0;
  const valid = radix === 16 ? /^[0-9a-f]+$/i : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!valid.test(digits)) return null;
  return Number.parseInt(digits, radix);
}

// No leading zeros: "010.0.0.1" is octal to the URL parser (8.0.0.1), so it is left to
// parseIpv4Loose rather than read here as decimal 10.0.0.1.
function parseDottedQuad(text: string): Uint8Array | null {
  if (!/^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(text)) return null;
  const parts = text.split(".").map(Number);
  if (parts.some((n) => n > 255)) return null;
  return new Uint8Array(parts);
}

function parseIpv6(text: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const groups: number[] = [];
  const readGroups = (items: string[], isLast: boolean): boolean => {
    for (let i = 0; i < items.length; i++) {
      const item = items[i] ?? "";
      if (isLast && i === items.length - 1 && item.includes(".")) {
        const v4 = parseDottedQuad(item);
        if (!v4) return false;
        groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return false;
        groups.push(Number.parseInt(item, 16));
      }
    }
    return true;
  };
  const compressed = halves.length === 2;
  if (!readGroups(head, !compressed)) return null;
  const headCount = groups.length;
  if (!readGroups(tail, true)) return null;
  if (compressed ? groups.length > 7 : groups.length !== 8) return null;
  const full = [
    ...groups.slice(0, headCount),
    ...new Array<number>(8 - groups.length).fill(0),
    ...groups.slice(headCount),
  ];
  const bytes = new Uint8Array(16);
  full.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

const METADATA_HOSTNAMES = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
]);

/**
 * Whether a host name is one of the cloud metadata services' well-known names
 * (case and a trailing dot ignored). They are refused even in development, where
 * `*.internal` names are otherwise let through.
 *
 * @example
 * isMetadataHostname("Metadata.Google.Internal."); // true
 */
export function isMetadataHostname(hostname: string): boolean {
  return METADATA_HOSTNAMES.has(hostname.toLowerCase().replace(/\.$/, ""));
}
