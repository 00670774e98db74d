// `ip_hash` is keyed by IP_HASH_KEY when it is set, else by PLATFORM_ROOT_KEY. With a key of its
// own, rotating the root key (after a leak, say) leaves one address's hashes comparable across
// the rotation: audit entries and sessions before and after it still match by address.
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/kernel/config";
import type { AppEnv } from "../../src/kernel/env";
import { clientIpHash } from "../../src/kernel/http/client-ip";

const ROOT_A = "root-key-a-0123456789abcdef0123456789";
const ROOT_B = "root-key-b-0123456789abcdef0123456789";
const IP_KEY = "ip-hash-key-0123456789abcdef01234567";

/** The `ip_hash` of 203.0.113.7 in tenant t-1 under the Worker env `vars`. */
async function hashUnder(vars: Record<string, string | undefined>): Promise<string | null> {
  const parsed = parseConfig({ ...env, ...vars });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const app = new Hono<AppEnv>();
  app.get("/", (c) => {
    c.set("config", parsed.config);
    c.set("tenant", { id: "t-1" } as AppEnv["Variables"]["tenant"]);
    return c.json(clientIpHash(c));
  });
  return (await app.request("/", { headers: { "cf-connecting-ip": "203.0.113.7" } })).json();
}

describe("ip_hash's key", () => {
  it("is the root key without IP_HASH_KEY: a root-key rotation changes every address's hash", async () => {
    const [a, b] = [await hashUnder({ PLATFORM_ROOT_KEY: ROOT_A }), await hashUnder({ PLATFORM_ROOT_KEY: ROOT_B })];
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(b).not.toBe(a);
  });

  it("is IP_HASH_KEY when set: the root key's rotation leaves the hashes as they were", async () => {
    const before = await hashUnder({ PLATFORM_ROOT_KEY: ROOT_A, IP_HASH_KEY: IP_KEY });
    const after = await hashUnder({ PLATFORM_ROOT_KEY: ROOT_B, IP_HASH_KEY: IP_KEY });
    expect(before).toMatch(/^[0-9a-f]{32}$/);
    expect(after).toBe(before);
    expect(before).not.toBe(await hashUnder({ PLATFORM_ROOT_KEY: ROOT_A }));
    // Without a root key at all, the hash still has its key.
    expect(await hashUnder({ PLATFORM_ROOT_KEY: undefined, IP_HASH_KEY: IP_KEY })).toBe(before);
  });

  it("refuses a short IP_HASH_KEY, naming the variable", () => {
    const parsed = parseConfig({ ...env, IP_HASH_KEY: "short" });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.issues.map((i) => i.variable)).toContain("IP_HASH_KEY");
  });
});
