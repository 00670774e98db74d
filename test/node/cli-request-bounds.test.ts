// What a remote command does with a server that never answers (a bound on each request, exit 3
// naming the URL and the bound) and with an id that is no path segment ("", "." or "..", which
// URL parsing turns into another path: a usage error naming the argument, no request sent).
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { jsonLines, plinth } from "./plinth-cli";

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A stand-in at 127.0.0.1 that hands each request to `handle`; resolves to its origin. */
function standIn(handle: (req: IncomingMessage, res: import("node:http").ServerResponse) => void): Promise<string> {
  const server = createServer(handle);
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)),
  );
}

const ROOT = { PLATFORM_ROOT_KEY: "root-key-of-the-stand-in" };

describe("a server that takes the request and never answers", () => {
  it("ends a remote command after --timeout with exit 3, naming the URL and the bound", async () => {
    const url = await standIn(() => {});
    const started = performance.now();
    const run = await plinth(["tenants", "list", "--url", url, "--timeout", "1s"], ROOT);
    expect(run.status, run.stderr).toBe(3);
    expect(run.stderr.trim()).toBe(`plinth: no answer from ${url} within 1s (--timeout 1s)`);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("bounds the answer's body too: headers then nothing is no answer", async () => {
    const url = await standIn((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "x-request-id": "req_1" });
      res.write('{"items": [');
    });
    const run = await plinth(["jobs", "run", "events", "x", "--url", url, "--timeout", "1s", "--json"], ROOT);
    expect(run.status, run.stderr).toBe(3);
    expect(jsonLines(run.stderr)).toEqual([
      { error: "network", exit_code: 3, detail: `no answer from ${url} within 1s (--timeout 1s)` },
    ]);
  });

  it("refuses a --timeout that is no duration, and names each command's default in its help", async () => {
    const bad = await plinth(["tenants", "list", "--url", "http://127.0.0.1:1", "--timeout", "1000"], ROOT);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--timeout 1000: not a duration like 30s, 5m or 1h");
    // Past Node's timer range a bound fired at once: 30d gave up after 1 ms.
    const long = await plinth(["tenants", "list", "--url", "http://127.0.0.1:1", "--timeout", "30d"], ROOT);
    expect(long.status).toBe(2);
    expect(long.stderr).toContain("--timeout 30d: at most 24h");
    const list = await plinth(["tenants", "list", "--help"]);
    expect(list.stdout).toContain("default 1m");
    // `jobs run` waits for the job's run in one request: a longer bound.
    const jobs = await plinth(["jobs", "run", "--help"]);
    expect(jobs.stdout).toContain("default 15m");
    // A command that calls once per page bounds each call, not its run: `--timeout 5m` on a
    // replay of millions of events read as "stop after 5 minutes" and was no such thing.
    const paging = [
      ["events", "replay"],
      ["audit", "rebuild"],
      ["audit", "check"],
      ["crypto", "reencrypt"],
      ["crypto", "versions"],
      ["mail-dead-letters", "replay-pending"],
      ["webhooks", "redeliver-failed"],
    ];
    for (const command of paging) {
      const help = await plinth([...command, "--help"]);
      expect(help.stdout, command.join(" ")).toContain("--timeout bounds each of those calls,\nnot the whole run");
    }
    expect(list.stdout).not.toContain("not the whole run");
    // The exit codes every help lists name it under 3.
    expect(jobs.stdout).toContain("3 cannot reach the URL, no answer within --timeout, or no plinth answers there");
  });
});

describe("an id that is no path segment", () => {
  it("is a usage error naming the argument, before any request", async () => {
    const seen: string[] = [];
    const url = await standIn((req, res) => {
      seen.push(req.url ?? "");
      res.writeHead(404, { "content-type": "application/problem+json", "x-request-id": "req_1" });
      res.end(JSON.stringify({ status: 404, code: "not_found", detail: `no route for ${req.method} ${req.url}` }));
    });
    const key = { ...ROOT, PLINTH_KEY: "plk_stand_in" };
    for (const [args, named] of [
      [["tenants", "get", ".."], "<tenant-id>"],
      [["tenants", "get", ""], "<tenant-id>"],
      [["tenants", "suspend", "."], "<tenant-id>"],
      [["keys", "revoke", ".."], "<id>"],
      [["jobs", "run", "events", ".."], "<job>"],
      [["webhooks", "endpoints", "--tenant", ".."], "--tenant"],
      [["event-dead-letters", "dismiss", "..", "--yes"], "<id>"],
    ] as const) {
      const run = await plinth([...args, "--url", url], key);
      expect(run.status, `${args.join(" ")}: ${run.stderr}`).toBe(2);
      expect(run.stderr, args.join(" ")).toMatch(new RegExp(`^plinth: ${named} is (empty|"\\.\\.?")`));
    }
    expect(seen).toEqual([]);
    // Any other id goes as one segment, encoded.
    const odd = await plinth(["tenants", "get", "../x?y", "--url", url], key);
    expect(odd.status).toBe(1);
    expect(seen).toEqual(["/api/v1/platform/tenants/..%2Fx%3Fy"]);
  });
});
