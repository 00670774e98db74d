// GET /metrics checked by Prometheus' own tool: after a workload through the
// served Worker (requests, refusals, commands, their events projected by the
// queue), `promtool check metrics` must find nothing to say about the text.
// Needs Debian's prometheus package (scripts/lib/debian-tools.mjs installs it).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedWorker, serveWorker } from "./proxy/worker";

const ROOT = path.resolve(import.meta.dirname, "../..");
const PROMTOOL = "/usr/bin/promtool";

let worker: ServedWorker | undefined;

beforeAll(async () => {
  if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: apt-get install prometheus (npm test does)`);
  worker = await serveWorker(ROOT);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
});

async function send(pathname: string, init: RequestInit & { json?: unknown } = {}) {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set("content-type", "application/json");
  const res = await fetch(new URL(pathname, worker?.origin), {
    ...rest,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  return { status: res.status, body: await res.text() };
}

describe("GET /metrics under promtool", () => {
  it("is clean after a workload, and shows it", async () => {
    const root = { authorization: `Bearer ${worker?.rootKey}` };
    const tenant = await send("/api/v1/platform/tenants", {
      method: "POST",
      headers: root,
      json: { slug: `prom-${Date.now().toString(36)}`, name: "Prom" },
    });
    expect(tenant.status).toBe(201);
    const admin = { authorization: `Bearer ${JSON.parse(tenant.body).admin_key}` };
    const post = await send("/api/v1/blog/posts", {
      method: "POST",
      headers: admin,
      json: { title: "t", content: "" },
    });
    expect(post.status).toBe(201);
    const id = JSON.parse(post.body).id;
    for (let i = 0; i < 5; i++) {
      const edit = await send(`/api/v1/blog/posts/${id}`, {
        method: "PATCH",
        headers: admin,
        json: { content: `v${i}` },
      });
      expect(edit.status).toBe(200);
    }
    expect((await send("/healthz")).status).toBe(200);
    expect((await send("/api/v1/me", { headers: { authorization: "Bearer nope-nope-nope-nope" } })).status).toBe(401);
    expect((await send("/no/such/path")).status).toBe(404);

    // The queue consumer's and the inline pass's figures arrive once their isolate flushed; wait for the projection.
    let text = "";
    for (let i = 0; i < 100; i++) {
      const res = await send("/metrics");
      expect(res.status).toBe(200);
      text = res.body;
      if (text.includes('plinth_queue_messages_total{queue="plinth-events",outcome="acked"}')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(text).toContain('plinth_commands_total{aggregate="post",command="update",outcome="ok"} 5');
    expect(text).toContain('plinth_http_requests_total{route="/api/v1/blog/posts/:id",method="PATCH",status="2xx"');
    expect(text).toContain('plinth_http_requests_total{route="unmatched",method="GET",status="4xx",tenant="none"} 1');
    expect(text).toContain('plinth_http_requests_total{route="/api/v1/me",method="GET",status="4xx",tenant="none"} 1');
    expect(text).toContain('plinth_auth_failures_total{reason="unknown_credential"} 1');
    expect(text).toContain("plinth_projection_lag_seconds_bucket{");
    expect(text).toContain('plinth_outbox_sent_total{object="Aggregate"}');
    expect(text).toContain('plinth_queue_messages_total{queue="plinth-events",outcome="acked"}');

    const check = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8" });
    expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({
      status: 0,
      stdout: "",
      stderr: "",
    });
  }, 120_000);

  it("promtool itself refuses a malformed exposition (the check can fail)", () => {
    const bad = '# TYPE x_total counter\nx_total{a="1"} not-a-number\n';
    const check = spawnSync(PROMTOOL, ["check", "metrics"], { input: bad, encoding: "utf8" });
    expect(check.status).not.toBe(0);
  });
});
