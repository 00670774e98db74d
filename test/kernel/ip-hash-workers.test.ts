// `ip_hash` (audit entries, the session list) of a Worker of another Cloudflare zone: every such
// Worker reaches plinth from Cloudflare's one Worker address (2a06:98c0:3600::103), so hashed by
// that address every Workers-based integration of a tenant had the same ip_hash, and an operator
// could not tell them apart. It hashes the client the rate limiter counts (`worker:<zone>`), and an
// ordinary client's hash is the one it always had: of its full address, an IPv6 one not cut to /64.
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/kernel/config";
import { derivedKey } from "../../src/kernel/crypto/derived-key";
import { hash } from "../../src/kernel/crypto/hash";
import { toHex } from "../../src/kernel/crypto/tokens";
import type { AppEnv } from "../../src/kernel/env";
import { clientIpHash } from "../../src/kernel/http/client-ip";

const IP_KEY = "ip-hash-key-0123456789abcdef01234567";
const WORKER_ADDRESS = "2a06:98c0:3600::103";

/** The `ip_hash` of a request to tenant t-1 with these headers. */
async function hashOf(headers: Record<string, string>): Promise<string | null> {
  const parsed = parseConfig({ ...env, IP_HASH_KEY: IP_KEY });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const app = new Hono<AppEnv>();
  app.get("/", (c) => {
    c.set("config", parsed.config);
    c.set("tenant", { id: "t-1" } as AppEnv["Variables"]["tenant"]);
    return c.json(clientIpHash(c));
  });
  return (await app.request("/", { headers })).json();
}

/** The hash as documented (docs/audit.md): keyed BLAKE2b-128 of `<tenant id>\0<client>`, computed here on its own. */
const documented = (client: string): string =>
  toHex(
    hash.blake2b(new TextEncoder().encode(`t-1\u0000${client}`), {
      key: derivedKey("plinth ip hash")(IP_KEY),
      outLen: 16,
    }),
  );

describe("ip_hash of a Worker of another zone", () => {
  it("tells the zones apart: each zone's Worker has its own, not the shared address's", async () => {
    const a = await hashOf({ "cf-connecting-ip": WORKER_ADDRESS, "cf-worker": "customer-a.example" });
    const b = await hashOf({ "cf-connecting-ip": WORKER_ADDRESS, "cf-worker": "customer-b.example" });
    const bare = await hashOf({ "cf-connecting-ip": WORKER_ADDRESS });
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set([a, b, bare]).size).toBe(3);
    expect(a).toBe(documented("worker:customer-a.example"));
    // The same zone, however the header and the address are spelt, is one client.
    expect(
      await hashOf({ "cf-connecting-ip": "2A06:98C0:3600:0:0:0:0:103", "cf-worker": " Customer-A.example " }),
    ).toBe(a);
  });

  it("believes CF-Worker from that address only, and only a zone name", async () => {
    const plain = await hashOf({ "cf-connecting-ip": "203.0.113.7" });
    expect(await hashOf({ "cf-connecting-ip": "203.0.113.7", "cf-worker": "customer-a.example" })).toBe(plain);
    const bare = await hashOf({ "cf-connecting-ip": WORKER_ADDRESS });
    expect(await hashOf({ "cf-connecting-ip": WORKER_ADDRESS, "cf-worker": "not a zone" })).toBe(bare);
  });
});

describe("ip_hash of an ordinary client", () => {
  it("is what it was: the hash of the address as CF-Connecting-IP gives it", async () => {
    expect(await hashOf({ "cf-connecting-ip": "203.0.113.7" })).toBe(documented("203.0.113.7"));
    expect(await hashOf({ "cf-connecting-ip": "2001:db8:1:2::9" })).toBe(documented("2001:db8:1:2::9"));
    expect(await hashOf({ "cf-connecting-ip": WORKER_ADDRESS })).toBe(documented(WORKER_ADDRESS));
  });

  it("is per full address: two hosts of one IPv6 /64 (one rate-limit bucket) keep apart", async () => {
    const one = await hashOf({ "cf-connecting-ip": "2001:db8:1:2::9" });
    const two = await hashOf({ "cf-connecting-ip": "2001:db8:1:2::10" });
    expect(one).not.toBe(two);
  });

  it("is null without an address", async () => {
    expect(await hashOf({ "cf-worker": "customer-a.example" })).toBeNull();
  });
});
