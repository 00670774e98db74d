import { describe, expect, it } from "vitest";
import { addressBucket } from "../../src/kernel/ratelimit/middleware";

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
