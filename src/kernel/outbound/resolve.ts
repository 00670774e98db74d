import { z } from "zod";
import { parseIp } from "./address";

/**
 * Turns a host name into the IPv4 and IPv6 addresses it has. A name that does not
 * resolve, or a lookup that fails, rejects with `ResolveError`: an empty list would
 * let a caller mistake "unknown" for "nothing to refuse".
 *
 * @example
 * const addresses = await resolver.resolve("hooks.example.com"); // ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
 */
export interface Resolver {
  resolve(hostname: string): Promise<string[]>;
}

/** A host name could not be resolved (does not exist, has no addresses, or the lookup failed). */
export class ResolveError extends Error {
  override readonly name = "ResolveError";
}

const DNS_TYPE = { A: 1, CNAME: 5, AAAA: 28 } as const;
const DOH_TIMEOUT_MS = 5_000;
// More CNAME follow-up queries than any sane chain needs; bounds a loop between names.
const MAX_CNAME_QUERIES = 8;

// The application/dns-json answer (https://developers.cloudflare.com/1.1.1.1/encryption/dns-over-https/make-api-requests/dns-json/).
const DnsJson = z.object({
  Status: z.number().int(),
  Answer: z.array(z.object({ name: z.string(), type: z.number().int(), data: z.string() })).optional(),
});
type DnsRecord = NonNullable<z.infer<typeof DnsJson>["Answer"]>[number];

/**
 * A resolver that asks a DNS-over-HTTPS endpoint's JSON API (Cloudflare's by default)
 * for A and AAAA records. A resolver's Answer section holds the CNAME chain and the
 * addresses at its end; when it stops at a CNAME, the chain's end is asked for in turn.
 *
 * @example
 * const resolver = dohResolver();
 * await resolver.resolve("example.com");
 */
export function dohResolver(
  // Looked up on each query, not bound once: a test suite that watches `globalThis.fetch`
  // for queries to the internet sees these (test/internet-dns-guard.ts).
  fetcher: typeof fetch = (input, init) => globalThis.fetch(input, init),
  endpoint = "https://cloudflare-dns.com/dns-query",
): Resolver {
  async function query(name: string, type: number): Promise<DnsRecord[]> {
    const url = new URL(endpoint);
    url.searchParams.set("name", name);
    url.searchParams.set("type", String(type));
    let response: Response;
    try {
      response = await fetcher(url.href, {
        headers: { accept: "application/dns-json" },
        signal: AbortSignal.timeout(DOH_TIMEOUT_MS),
      });
    } catch (cause) {
      throw new ResolveError(`DNS lookup for ${name} failed`, { cause });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new ResolveError(`DNS lookup for ${name} failed (HTTP ${response.status})`);
    }
    const parsed = DnsJson.safeParse(await response.json().catch(() => null));
    if (!parsed.success) throw new ResolveError(`DNS lookup for ${name} gave a malformed answer`);
    if (parsed.data.Status === 3) throw new ResolveError(`${name} does not exist`);
    if (parsed.data.Status !== 0) {
      throw new ResolveError(`DNS lookup for ${name} failed (rcode ${parsed.data.Status})`);
    }
    return parsed.data.Answer ?? [];
  }

  async function lookup(hostname: string, type: number, version: 4 | 6): Promise<string[]> {
    let name = hostname;
    for (let i = 0; i < MAX_CNAME_QUERIES; i++) {
      const answer = await query(name, type);
      // Every address in the answer, not only the chain's end: when refusing on any
      // private address, a superset errs on the safe side.
      const addresses = answer.filter((r) => r.type === type).map((r) => r.data);
      for (const address of addresses) {
        if (parseIp(address)?.version !== version) {
          throw new ResolveError(`DNS lookup for ${hostname} gave a malformed address`);
        }
      }
      const end = chainEnd(name, answer);
      if (addresses.length > 0 || end === name) return addresses;
      name = end;
    }
    throw new ResolveError(`${hostname} has too long a CNAME chain`);
  }

  return {
    async resolve(hostname) {
      const name = normaliseName(hostname);
      const [v4, v6] = await Promise.all([lookup(name, DNS_TYPE.A, 4), lookup(name, DNS_TYPE.AAAA, 6)]);
      const addresses = [...v4, ...v6];
      if (addresses.length === 0) throw new ResolveError(`${name} has no addresses`);
      return addresses;
    },
  };
}

/**
 * A resolver answering from a fixed map (names matched case-insensitively, trailing
 * dot ignored), for tests and development. An unknown name rejects like NXDOMAIN.
 *
 * @example
 * const resolver = staticResolver({ "hooks.example.com": ["93.184.215.14"], "evil.example": ["10.0.0.1"] });
 */
export function staticResolver(map: Record<string, string[]>): Resolver {
  const entries = new Map(Object.entries(map).map(([name, addresses]) => [normaliseName(name), addresses]));
  return {
    async resolve(hostname) {
      const addresses = entries.get(normaliseName(hostname));
      if (!addresses || addresses.length === 0) throw new ResolveError(`${hostname} does not exist`);
      return [...addresses];
    },
  };
}

function chainEnd(name: string, answer: DnsRecord[]): string {
  let current = name;
  const seen = new Set([current]);
  for (;;) {
    const cname = answer.find((r) => r.type === DNS_TYPE.CNAME && normaliseName(r.name) === current);
    if (!cname) return current;
    const next = normaliseName(cname.data);
    if (seen.has(next)) throw new ResolveError(`${name} has a CNAME loop`);
    seen.add(next);
    current = next;
  }
}

function normaliseName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}
