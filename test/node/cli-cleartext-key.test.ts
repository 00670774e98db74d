// The CLI sends a key (the platform root key, a tenant's API key) in the clear only to this
// machine: `--url http://<a host elsewhere>` (a typo for https, a LAN box) put
// `Authorization: Bearer <key>` on the wire for anyone on the path to read. The Worker holds
// its own outgoing secrets to the same rule (config/loopback.ts).
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { networkInterfaces } from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { plinth, STAND_IN_HEADERS } from "./plinth-cli";

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** This machine's first address that is not loopback: reached over a network, as a host elsewhere is. */
function networkAddress(): string {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && !a.internal && a.family === "IPv4");
  if (!found) throw new Error("this machine has no IPv4 address besides loopback");
  return found.address;
}

/** A stand-in plinth on every interface; answers what each request carried. */
async function standIn(): Promise<{ port: number; received: IncomingHttpHeaders[] }> {
  const received: IncomingHttpHeaders[] = [];
  server = createServer((req, res) => {
    received.push(req.headers);
    res
      .writeHead(200, { "content-type": "application/json", ...STAND_IN_HEADERS })
      .end(JSON.stringify({ items: [], next_cursor: null }));
  });
  await new Promise<void>((resolve) => server?.listen(0, "0.0.0.0", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { port: address.port, received };
}

describe("a key over plain http", () => {
  it("is never sent to a host other than this machine: the command stops first, naming https", async () => {
    const { port, received } = await standIn();
    const url = `http://${networkAddress()}:${port}`;
    const root = "root-key-that-must-not-cross-the-network-0123456789";
    const platform = await plinth(["tenants", "list", "--url", url], { PLATFORM_ROOT_KEY: root });
    const tenant = await plinth(["keys", "list", "--url", url], { PLINTH_KEY: "plk_test_key_over_http" });
    expect(received.map((h) => h.authorization)).toEqual([]);
    for (const ran of [platform, tenant]) {
      expect(ran.status).toBe(2);
      expect(ran.stderr).toContain("https");
      expect(ran.stderr).not.toContain(root);
      expect(ran.stderr).not.toContain("plk_test_key_over_http");
    }
  });

  it("is never sent to a name under .localhost: the resolver, not this machine, says where it is", async () => {
    // getaddrinfo asks DNS for a.localhost unless the machine's resolver maps it (systemd-resolved
    // does, glibc alone does not): a resolver on the path answers its own address, and gets the key.
    const { port, received } = await standIn();
    const ran = await plinth(["tenants", "list", "--url", `http://plinth.localhost:${port}`], {
      PLATFORM_ROOT_KEY: "root-key-that-must-not-cross-the-network-0123456789",
    });
    expect(received.map((h) => h.authorization)).toEqual([]);
    expect(ran.status).toBe(2);
    expect(ran.stderr).toContain("https");
  });

  it("is sent over http to this machine (npm start)", async () => {
    const { port, received } = await standIn();
    const ran = await plinth(["tenants", "list", "--url", `http://127.0.0.1:${port}`], {
      PLATFORM_ROOT_KEY: "root-key-for-the-local-plinth-0123456789",
    });
    expect(ran.stderr).toBe("");
    expect(ran.status).toBe(0);
    expect(received.map((h) => h.authorization)).toEqual(["Bearer root-key-for-the-local-plinth-0123456789"]);
  });
});
