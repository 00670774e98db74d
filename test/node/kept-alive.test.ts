// A client that keeps its connection alive (Node's http agent and fetch, browsers) sends its next
// request on the connection its last one used. workerd cannot reuse a connection whose request
// body the Worker left unread, which every refusal before validation does (a bad credential, a
// key on a users-only route): the client's next request there got "socket hang up" instead of
// its answer. The kernel reads such a body to its end after answering (kernel/http/drain-body.ts).
import http from "node:http";
import { describe, expect, it } from "vitest";
import { newTenantOf, servePlinthForFile } from "./support/served-plinth";

const served = servePlinthForFile();

interface Answer {
  status: number;
  code: unknown;
  reused: boolean;
}

/** `method path` with `token` and a JSON body, through `agent`: its status, problem code, and whether it went on a reused connection. */
function send(agent: http.Agent, method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const url = new URL(path, served().origin);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            code: text ? JSON.parse(text).code : undefined,
            reused: req.reusedSocket,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

describe("refusals on a kept-alive connection", () => {
  it("answers each request on one connection, the refused ones with a body it never read included", async () => {
    const t = await newTenantOf(served());
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const body = { password: "a long enough password", padding: "x".repeat(20_000) };
      const answers = [
        await send(agent, "GET", "/api/v1/me", t.key),
        // A users-only route refuses a key before it reads the body.
        await send(agent, "POST", "/api/v1/me/sso/link", t.key, body),
        await send(agent, "POST", "/api/v1/me/two-factor/confirm", t.key, body),
        // An unknown key is refused before anything reads the body.
        await send(agent, "POST", "/api/v1/blog/posts", "plk_nobody_here", body),
        await send(agent, "GET", "/api/v1/me", t.key),
      ];
      expect(answers.map((a) => `${a.status} ${a.code ?? ""}`.trim())).toEqual([
        "200",
        "403 forbidden",
        "403 forbidden",
        "401 unauthenticated",
        "200",
      ]);
      // All on the first request's connection: none was dropped for a body left unread.
      expect(answers.slice(1).every((a) => a.reused)).toBe(true);
    } finally {
      agent.destroy();
    }
  }, 60_000);
});
