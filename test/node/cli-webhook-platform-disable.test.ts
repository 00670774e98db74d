// `plinth webhooks disable <id> --tenant <t> --reason <why>`: the operator's reason goes to the
// platform's route, and a tenant admin's `plinth webhooks endpoints` then says the platform
// disabled the endpoint and why, where it printed "no (by an admin)" before.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plinth, STAND_IN_HEADERS } from "./plinth-cli";

const TENANT = "01TENANTOFTHEENDPOINT000000";
const endpoint = {
  id: "01ENDPOINTTHEPLATFORMSTOPS0",
  url: "https://hooks.example.com/in?token=abc",
  description: "",
  events: ["blog.post.created"],
  checked_reads: ["blog.post.read"],
  held_back_types: [],
  enabled: true,
  disabled_reason: null as string | null,
  disabled_note: null as string | null,
  version: 1,
  created_at: "2026-12-01T00:00:00.000Z",
  updated_at: "2026-12-01T00:00:00.000Z",
};

/** What the stand-in plinth was asked: method, path and body of each request. */
const asked: { method: string; path: string; body: string }[] = [];
let current = { ...endpoint };
const read = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d) => (body += d));
    req.on("end", () => resolve(body));
  });
const server = createServer(async (req, res) => {
  const body = await read(req);
  asked.push({ method: req.method ?? "", path: req.url ?? "", body });
  if (req.method === "PATCH" && current.disabled_reason === "platform" && JSON.parse(body).enabled === true) {
    // As plinth answers the tenant's re-enable of an endpoint the platform disabled.
    res.writeHead(409, { "content-type": "application/problem+json", ...STAND_IN_HEADERS });
    res.end(
      JSON.stringify({
        type: "/problems/endpoint_disabled_by_platform",
        title: "Endpoint disabled by the platform",
        status: 409,
        code: "endpoint_disabled_by_platform",
        detail: `the platform disabled this endpoint (reason: ${current.disabled_note}) and only the platform can enable it`,
      }),
    );
    return;
  }
  if (req.method === "POST" && req.url?.endsWith("/disable")) {
    const reason = body === "" ? null : (JSON.parse(body).reason ?? null);
    current = { ...current, enabled: false, disabled_reason: "platform", disabled_note: reason, version: 2 };
  }
  res.writeHead(200, { "content-type": "application/json", etag: `"${current.version}"`, ...STAND_IN_HEADERS });
  res.end(JSON.stringify(req.method === "GET" ? { items: [current], next_cursor: null } : current));
});
let url = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const REASON = "your receiver is flooded; write to ops@example.com";

describe("plinth webhooks disable --reason, as the platform", () => {
  it("sends the reason to the platform's route, and the tenant's list says the platform disabled it and why", async () => {
    const off = await plinth(
      ["webhooks", "disable", endpoint.id, "--tenant", TENANT, "--reason", REASON, "--url", url],
      {
        PLATFORM_ROOT_KEY: "r".repeat(40),
      },
    );
    expect(off.status, off.stderr).toBe(0);
    const post = asked.find((a) => a.method === "POST");
    expect(post?.path).toBe(`/api/v1/platform/tenants/${TENANT}/webhooks/${endpoint.id}/disable`);
    expect(JSON.parse(post?.body ?? "")).toEqual({ reason: REASON });

    const listed = await plinth(["webhooks", "endpoints", "--url", url], { PLINTH_KEY: `plk_dev_${"a".repeat(43)}` });
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`no (by the platform: ${REASON})`);
    expect(listed.stdout).not.toContain("by an admin");
  });

  it("a tenant admin's enable of it is refused, naming the reason and that the platform's operators enable it", async () => {
    const on = await plinth(["webhooks", "enable", endpoint.id, "--url", url], {
      PLINTH_KEY: `plk_dev_${"a".repeat(43)}`,
    });
    expect(on.status).not.toBe(0);
    expect(on.stderr).toContain(REASON);
    expect(on.stderr).toContain(
      `ask the platform's operators to enable it once the cause is fixed (they run: plinth webhooks enable ${endpoint.id} --tenant <tenant-id>)`,
    );
  });

  it("refuses --reason without --tenant (exit 2): a tenant admin's own disabling needs none", async () => {
    const refused = await plinth(["webhooks", "disable", endpoint.id, "--reason", REASON, "--url", url], {
      PLINTH_KEY: `plk_dev_${"a".repeat(43)}`,
    });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("--reason is the platform's, for the tenant's admins: give it with --tenant <id>");
    // The first test's disable, and the refused enable: nothing from this one.
    expect(asked.filter((a) => a.method !== "GET")).toHaveLength(2);
  });
});
