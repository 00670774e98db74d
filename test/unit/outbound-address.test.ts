import { describe, expect, it } from "vitest";
import { type AddressClass, classifyIp, isMetadataHostname, parseIp } from "../../src/kernel/outbound";

const TABLE: ReadonlyArray<readonly [string, AddressClass]> = [
  // IPv4
  ["8.8.8.8", "public"],
  ["1.1.1.1", "public"],
  ["93.184.215.14", "public"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["10.0.0.1", "private"],
  ["10.255.255.255", "private"],
  ["11.0.0.0", "public"],
  ["100.63.255.255", "public"],
  ["100.64.0.1", "shared"],
  ["100.127.255.255", "shared"],
  ["100.128.0.0", "public"],
  ["100.100.100.200", "metadata"],
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["169.254.169.254", "metadata"],
  ["169.254.170.2", "metadata"],
  ["169.254.0.1", "link_local"],
  ["172.15.255.255", "public"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["172.32.0.0", "public"],
  ["192.0.0.8", "reserved"],
  ["192.0.0.192", "metadata"],
  ["192.0.2.1", "reserved"],
  ["192.88.99.1", "reserved"],
  ["192.168.1.1", "private"],
  ["198.18.0.1", "reserved"],
  ["198.19.255.255", "reserved"],
  ["198.20.0.0", "public"],
  ["198.51.100.7", "reserved"],
  ["203.0.113.9", "reserved"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.255", "reserved"],
  // IPv4 in the notations the URL parser accepts for hosts
  ["2130706433", "loopback"],
  ["0177.0.0.1", "loopback"],
  ["0x7f.0.0.1", "loopback"],
  ["0x7f000001", "loopback"],
  ["127.1", "loopback"],
  ["017700000001", "loopback"],
  ["0xa9fea9fe", "metadata"],
  ["3232235777", "private"],
  ["010.0.0.1", "public"], // octal: 8.0.0.1, as the URL parser reads it
  ["0", "unspecified"],
  // IPv6
  ["::", "unspecified"],
  ["::1", "loopback"],
  ["[::1]", "loopback"],
  ["0:0:0:0:0:0:0:1", "loopback"],
  ["2606:4700:4700::1111", "public"],
  ["2001:4860:4860::8888", "public"],
  ["fe80::1", "link_local"],
  ["febf:ffff::1", "link_local"],
  ["fec0::1", "private"],
  ["fc00::1", "private"],
  ["fd12:3456:789a::1", "private"],
  ["fd00:ec2::254", "metadata"],
  ["[fd00:ec2::254]", "metadata"],
  ["ff02::1", "multicast"],
  ["ff05::1:3", "multicast"],
  ["2001:db8::1", "reserved"],
  ["3fff::1", "reserved"],
  ["2001::1", "reserved"], // Teredo
  ["2001:2::1", "reserved"],
  ["100::1", "reserved"],
  ["5f00::1", "reserved"],
  ["4000::1", "reserved"], // unallocated
  ["::7f00:1", "reserved"], // deprecated IPv4-compatible
  // IPv6 carrying IPv4: judged by the IPv4 address
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["[::ffff:7f00:1]", "loopback"],
  ["::ffff:10.1.2.3", "private"],
  ["::ffff:169.254.169.254", "metadata"],
  ["::ffff:8.8.8.8", "public"],
  ["::ffff:0:10.0.0.1", "private"], // IPv4-translated
  ["64:ff9b::10.0.0.1", "private"], // NAT64
  ["64:ff9b::a9fe:a9fe", "metadata"],
  ["64:ff9b::808:808", "public"],
  ["64:ff9b:1::1", "private"], // local-use NAT64
  ["2002:7f00:1::", "loopback"], // 6to4 of 127.0.0.1
  ["2002:c0a8:101::1", "private"], // 6to4 of 192.168.1.1
  ["2002:a9fe:a9fe::", "metadata"],
  ["2002:808:808::1", "public"],
];

describe("classifyIp", () => {
  it.each(TABLE)("%s is %s", (ip, expected) => {
    expect(classifyIp(ip)).toBe(expected);
  });

  it("classifies what is not an address as reserved, so it is refused", () => {
    for (const text of [
      "",
      "example.com",
      "localhost",
      "::g",
      "1::2::3",
      "1.2.3.256",
      "fe80::1%eth0",
      "1.2.3.4.5",
      "[::1",
    ]) {
      expect(classifyIp(text)).toBe("reserved");
    }
  });
});

describe("parseIp", () => {
  it("reads IPv4 and IPv6 into network-order bytes", () => {
    expect(parseIp("192.168.1.2")).toEqual({ version: 4, bytes: new Uint8Array([192, 168, 1, 2]) });
    expect(parseIp("[2001:db8::ff00:42:8329]")?.bytes).toEqual(
      new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29]),
    );
    expect(parseIp("1:2:3:4:5:6:1.2.3.4")?.bytes.subarray(12)).toEqual(new Uint8Array([1, 2, 3, 4]));
  });

  it("refuses malformed text and ambiguous IPv4", () => {
    for (const text of [
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "::1::",
      "12345::",
      "::1.2.3",
      "010.0.0.1",
      "1.2.3",
      "a.b.c.d",
    ]) {
      expect(parseIp(text)).toBeNull();
    }
  });
});

describe("isMetadataHostname", () => {
  it("knows the cloud metadata services' names, whatever the case or a trailing dot", () => {
    for (const name of [
      "metadata.google.internal",
      "METADATA.google.internal.",
      "metadata",
      "instance-data.ec2.internal",
    ]) {
      expect(isMetadataHostname(name)).toBe(true);
    }
    expect(isMetadataHostname("metadata.example.com")).toBe(false);
  });
});
