import { describe, expect, it } from "vitest";
import { addressBucket, clientBucket } from "../../src/kernel/ratelimit/middleware";

describe("addressBucket: what a per-client rate limit counts", () => {
  it("keeps an IPv4 address whole, and reads an IPv4-mapped IPv6 one as its IPv4", () => {
    expect(addressBucket("203.0.113.7")).toBe("203.0.113.7");
    expect(addressBucket(" 203.0.113.7 ")).toBe("203.0.113.7");
    expect(addressBucket("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("cuts IPv6 to its /64, whatever the spelling", () => {
    const bucket = "2001:db8:1:2::/64";
    for (const ip of ["2001:db8:1:2::1", "2001:0DB8:0001:0002:0:0:0:2", "2001:db8:1:2:ffff:ffff:ffff:ffff"]) {
      expect(addressBucket(ip)).toBe(bucket);
    }
    expect(addressBucket("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressBucket("::1")).toBe("0:0:0:0::/64");
    expect(addressBucket("2001:db8:1:3::1")).not.toBe(bucket);
  });

  it("names one bucket for a client the runtime cannot name", () => {
    expect(addressBucket(undefined)).toBe("unknown");
    expect(addressBucket("  ")).toBe("unknown");
  });
});

// Cloudflare gives every cross-zone Worker subrequest CF-Connecting-IP 2a06:98c0:3600::103 and
// CF-Worker: <the sending Worker's zone> (developers.cloudflare.com/fundamentals/reference/http-headers/).
describe("clientBucket: a Worker of another zone is counted by its zone, nobody else by a header", () => {
  const WORKER = "2a06:98c0:3600::103";

  it("counts a cross-zone Worker by the zone CF-Worker names, however the address is spelt", () => {
    expect(clientBucket(WORKER, "example.com")).toBe("worker:example.com");
    expect(clientBucket(WORKER, " Example.COM ")).toBe("worker:example.com");
    expect(clientBucket("2A06:98C0:3600:0:0:0:0:0103", "shop.example.co.uk")).toBe("worker:shop.example.co.uk");
    expect(clientBucket(WORKER, "other.example")).not.toBe(clientBucket(WORKER, "example.com"));
  });

  it("counts the Worker address by its /64 without a CF-Worker, as before", () => {
    expect(clientBucket(WORKER, undefined)).toBe(addressBucket(WORKER));
    expect(clientBucket(WORKER, "")).toBe(addressBucket(WORKER));
  });

  it("ignores CF-Worker from any other address: no client names its own bucket", () => {
    expect(clientBucket("203.0.113.7", "example.com")).toBe("203.0.113.7");
    expect(clientBucket("2a06:98c0:3600::104", "example.com")).toBe("2a06:98c0:3600:0::/64");
    expect(clientBucket("2001:db8:1:2::9", "example.com")).toBe("2001:db8:1:2::/64");
    expect(clientBucket(undefined, "example.com")).toBe("unknown");
  });

  it("ignores a CF-Worker that is no zone name, so a value cannot be made up per request", () => {
    for (const value of ["example", "exa mple.com", "example.com\u0000x", "a..b", `${"a".repeat(64)}.com`, "é.com"]) {
      expect(clientBucket(WORKER, value)).toBe(addressBucket(WORKER));
    }
    expect(clientBucket(WORKER, `${"a.".repeat(127)}com`)).toBe(addressBucket(WORKER));
  });
});
