import { describe, expect, it } from "vitest";
import { checkUrl, MAX_URL_LENGTH, type OutboundPolicy } from "../../src/kernel/outbound";

const production: OutboundPolicy = { development: false };
const development: OutboundPolicy = { development: true };

function reason(raw: string, policy: OutboundPolicy): string | null {
  const check = checkUrl(raw, policy);
  return check.ok ? null : check.reason;
}

describe("checkUrl outside development", () => {
  it("accepts https to a public name or address and returns the parsed URL", () => {
    const check = checkUrl("https://hooks.example.com:8443/in?x=1", production);
    expect(check.ok && check.url.href).toBe("https://hooks.example.com:8443/in?x=1");
    expect(checkUrl("https://93.184.215.14/", production).ok).toBe(true);
    expect(checkUrl("https://[2606:4700:4700::1111]/", production).ok).toBe(true);
  });

  it.each([
    ["http://hooks.example.com/", "URL must use https"],
    ["ftp://hooks.example.com/", "URL must use https"],
    ["javascript:alert(1)", "URL must use https"],
    ["file:///etc/passwd", "URL must use https"],
    ["not a url", "not a valid URL"],
    ["https://user:pw@hooks.example.com/", "URL must not contain a user name or password"],
    ["https://token@hooks.example.com/", "URL must not contain a user name or password"],
    ["https://10.0.0.1/", "URL points to a private network address"],
    ["https://192.168.1.1/", "URL points to a private network address"],
    ["https://127.0.0.1/", "URL points to a loopback address"],
    ["https://[::1]/", "URL points to a loopback address"],
    ["https://169.254.169.254/latest/meta-data/", "URL points to a cloud metadata address"],
    ["https://[fd00:ec2::254]/", "URL points to a cloud metadata address"],
    ["https://169.254.1.1/", "URL points to a link-local address"],
    ["https://[fe80::1]/", "URL points to a link-local address"],
    ["https://[fc00::1]/", "URL points to a private network address"],
    ["https://0.0.0.0/", "URL points to an unspecified address"],
    ["https://224.0.0.1/", "URL points to a multicast address"],
    ["https://[ff02::1]/", "URL points to a multicast address"],
    ["https://192.0.2.1/", "URL points to a reserved address"],
    ["https://[2001:db8::1]/", "URL points to a reserved address"],
    ["https://100.64.0.1/", "URL points to a carrier-grade NAT address"],
    ["https://localhost/", "URL points to this machine (localhost)"],
    ["https://LOCALHOST./", "URL points to this machine (localhost)"],
    ["https://metadata.google.internal/computeMetadata/v1/", "URL points to a cloud metadata service"],
    ["https://app.localhost/", "URL must name a public host, not a local or internal name"],
    ["https://printer.local/", "URL must name a public host, not a local or internal name"],
    ["https://db.corp.internal/", "URL must name a public host, not a local or internal name"],
    ["https://nas.home.arpa/", "URL must name a public host, not a local or internal name"],
    ["https://intranet/", "URL must name a public host, not a local or internal name"],
    ["https://intranet./", "URL must name a public host, not a local or internal name"],
  ])("refuses %s: %s", (raw, expected) => {
    expect(reason(raw, production)).toBe(expected);
  });

  // workerd's URL parser (WHATWG) normalises these to dotted IPv4 or compressed IPv6
  // before the checks see the host, so no notation slips past as a name.
  it.each([
    ["https://2130706433/", "loopback"],
    ["https://0177.0.0.1/", "loopback"],
    ["https://0x7f.0.0.1/", "loopback"],
    ["https://0x7f000001/", "loopback"],
    ["https://127.1/", "loopback"],
    ["https://%31%32%37.0.0.1/", "loopback"],
    ["https://127。0。0。1/", "loopback"],
    ["https://[::ffff:127.0.0.1]/", "loopback"],
    ["https://[0:0:0:0:0:0:0:1]/", "loopback"],
    ["https://0/", "unspecified"],
    ["https://0xa9fea9fe/", "cloud metadata"],
    ["https://[::ffff:169.254.169.254]/", "cloud metadata"],
    ["https://[64:ff9b::10.0.0.1]/", "private network"],
    ["https://[2002:c0a8:101::]/", "private network"],
  ])("refuses %s, an odd notation of a %s address", (raw, kind) => {
    expect(reason(raw, production)).toContain(kind);
  });

  it("shows how workerd's URL parser rewrites those hosts", () => {
    expect(new URL("https://2130706433/").hostname).toBe("127.0.0.1");
    expect(new URL("https://0177.0.0.1/").hostname).toBe("127.0.0.1");
    expect(new URL("https://010.0.0.1/").hostname).toBe("8.0.0.1");
    expect(new URL("https://[::ffff:127.0.0.1]/").hostname).toBe("[::ffff:7f00:1]");
    expect(() => new URL("https://256.0.0.1/")).toThrow();
    expect(() => new URL("https://[fe80::1%25eth0]/")).toThrow();
  });

  it("refuses a URL longer than 2048 characters", () => {
    const base = "https://hooks.example.com/";
    expect(checkUrl(base + "a".repeat(MAX_URL_LENGTH - base.length), production).ok).toBe(true);
    expect(reason(base + "a".repeat(MAX_URL_LENGTH - base.length + 1), production)).toBe(
      "URL is too long (at most 2048 characters)",
    );
  });
});

describe("checkUrl in development", () => {
  it.each([
    "http://localhost:8788/hook",
    "http://localhost./hook",
    "http://127.0.0.1:8788/hook",
    "http://127.3.4.5/hook",
    "http://[::1]:8788/hook",
    "https://localhost/hook",
  ])("accepts %s, a receiver on this machine", (raw) => {
    expect(checkUrl(raw, development).ok).toBe(true);
  });

  it("still refuses http to anything but loopback", () => {
    expect(reason("http://hooks.example.com/", development)).toBe(
      "http is allowed only for localhost in development; use https",
    );
    expect(reason("http://10.0.0.1/", development)).toBe("URL points to a private network address");
  });

  it("still refuses private, metadata and link-local targets", () => {
    expect(reason("https://192.168.1.1/", development)).toBe("URL points to a private network address");
    expect(reason("https://169.254.169.254/", development)).toBe("URL points to a cloud metadata address");
    expect(reason("https://metadata.google.internal/", development)).toBe("URL points to a cloud metadata service");
    expect(reason("https://[fe80::1]/", development)).toBe("URL points to a link-local address");
  });

  it("lets local-looking names through to be judged by what they resolve to", () => {
    expect(checkUrl("https://receiver.local/", development).ok).toBe(true);
    expect(checkUrl("https://receiver/", development).ok).toBe(true);
  });

  it("still refuses credentials in the URL", () => {
    expect(reason("http://u:p@localhost/", development)).toBe("URL must not contain a user name or password");
  });
});
