// Every remote command's --json success prints its JSON in one form, indented as the API's
// answers print: `keys revoke`, `tenants reset-limits`, `webhooks redeliver-failed` and the
// dead-letter replays and dismissals printed one compact line while the rest indented.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plinth } from "./plinth-cli";

let server: Server;
let url = "";

/** What a plinth would answer each request the commands below make, with its X-Request-Id. */
function answerOf(method: string, path: string): { status: number; body?: unknown } {
  if (method === "GET" && path.startsWith("/api/v1/admin/api-keys")) {
    return { status: 200, body: { items: [{ id: "k2", name: "ci", created_by: "k1" }], next_cursor: null } };
  }
  if (method === "GET" && path === "/api/v1/platform/tenants/t1") {
    return { status: 200, body: { id: "t1", slug: "acme", name: "Acme", plan: "free", status: "active" } };
  }
  if (method === "POST" && path.endsWith("/redeliver-failed"))
    return { status: 200, body: { requeued: 3, remaining: 0 } };
  return { status: 204 };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const { status, body } = answerOf(req.method ?? "", req.url ?? "");
    res.writeHead(status, { "content-type": "application/json", "x-request-id": "req_stand_in" });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe("--json on stdout", () => {
  it("is the same indented form for every command, the 204 ones' own JSON included", async () => {
    const env = { PLATFORM_ROOT_KEY: "root-key-of-the-stand-in", PLINTH_KEY: "plk_stand_in" };
    for (const [args, expected] of [
      [["tenants", "get", "t1"], { id: "t1", slug: "acme", name: "Acme", plan: "free", status: "active" }],
      [["keys", "revoke", "k1"], { revoked: "k1", with: ["k2"] }],
      [["tenants", "reset-limits", "t1"], { rate_limits_cleared: "t1" }],
      [["webhooks", "redeliver-failed", "wh_1"], { endpoint_id: "wh_1", requeued: 3, remaining: 0 }],
      [["dead-letters", "replay", "dl_1"], { replayed: "dl_1" }],
      [["event-dead-letters", "dismiss", "dl_2", "--yes"], { dismissed: "dl_2" }],
    ] as const) {
      const run = await plinth([...args, "--url", url, "--json"], env);
      expect(run.status, `${args.join(" ")}: ${run.stderr}`).toBe(0);
      expect(run.stdout, args.join(" ")).toBe(`${JSON.stringify(expected, null, 2)}\n`);
    }
  });
});
