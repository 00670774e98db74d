// The tenant admin's webhook commands against a served plinth delivering to a real receiver
// on 127.0.0.1: after an outage, the deliveries given up are listed and sent again with the
// CLI (the on-call drill had only curl for it). WEBHOOK_POLICY gives up after one attempt.
import { createServer } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "../../bench/lib/webhooks.mjs";
import { plinth, STAND_IN_HEADERS } from "./plinth-cli";
import { type Json, servedApi, until } from "./proxy/served-api";
import { newTenantOf, servePlinthForFile } from "./support/served-plinth";

// One failed attempt gives a message up; nothing disables the endpoint or opens its breaker.
const POLICY = { max_attempts: 1, disable_after_failures: 10_000, breaker_minimum_calls: 1_000 };
const served = servePlinthForFile({ WEBHOOK_POLICY: JSON.stringify(POLICY) });
const api = servedApi(() => served());

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.stop();
});

/** A tenant with an endpoint whose receiver answers 500, and `n` test messages given up on it. */
async function outage(n: number) {
  const tenant = await newTenantOf(served());
  const target = receiver.path("outage", "fail");
  const created = await api("POST", "/api/v1/admin/webhooks", {
    key: tenant.key,
    body: { url: target.url, events: ["blog.post.created"] },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = String(created.body.id);
  for (let i = 0; i < n; i++) {
    // One at a time, so their order is known: the receiver must get them again in it.
    const sent = await api("POST", `/api/v1/admin/webhooks/${id}/test`, { key: tenant.key });
    expect(sent.status).toBe(202);
    await until(`message ${i + 1} given up`, async () => {
      const log = await api("GET", `/api/v1/admin/webhooks/${id}/deliveries?status=failed`, { key: tenant.key });
      return (log.body.items as Json[]).length === i + 1 ? true : undefined;
    });
  }
  const run = (args: string[]) => plinth([...args, "--url", served().origin], { PLINTH_KEY: tenant.key });
  return { tenant, id, target, run };
}

describe("plinth webhooks", () => {
  it("lists the endpoints and the failed deliveries, and redelivers them in order until none is left", async () => {
    const { id, target, run } = await outage(2);
    const failedIds = receiver.on(target.path).map((r) => r.headers["webhook-id"]);
    expect(failedIds).toHaveLength(2);

    const endpoints = await run(["webhooks", "endpoints"]);
    expect(endpoints.stderr).toBe("");
    expect(endpoints.status).toBe(0);
    expect(endpoints.stdout.split("\n")[0]).toMatch(/^ID +HOST +EVENTS +HELD BACK +ENABLED +UPDATED$/);
    expect(endpoints.stdout).toMatch(
      new RegExp(`^${id} +127\\.0\\.0\\.1:\\d+ +blog\\.post\\.created +- +yes +\\S+$`, "m"),
    );
    // The receiver's path may carry a token: the table names its host only.
    expect(endpoints.stdout).not.toContain(target.path);

    const failed = await run(["webhooks", "deliveries", id, "--failed"]);
    expect(failed.status, failed.stderr).toBe(0);
    expect(failed.stdout.split("\n")[0]).toMatch(/^ID +EVENT TYPE +STATUS +ATTEMPTS +RESPONSE +UPDATED +LAST ERROR$/);
    expect(failed.stdout.match(/ webhooks\.test +failed +1 +500 /g)).toHaveLength(2);

    receiver.set(target.path, "ok");
    const redelivered = await run(["webhooks", "redeliver-failed", id]);
    expect(redelivered.stderr).toBe("");
    expect(redelivered.status).toBe(0);
    expect(redelivered.stdout.trim()).toBe(
      `requeued 2 failed deliveries of ${id}, oldest first, with their webhook-id unchanged`,
    );
    const delivered = await until("both redelivered", () => {
      const got = receiver.delivered(target.path);
      return got.length === 2 ? got : undefined;
    });
    expect(delivered.map((r) => r.headers["webhook-id"])).toEqual(failedIds);

    // Nothing is left to send: said so, and --json says it as JSON.
    const again = await run(["webhooks", "redeliver-failed", id]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(`no failed deliveries of ${id}`);
    const json = await run(["webhooks", "redeliver-failed", id, "--json"]);
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ endpoint_id: id, requeued: 0, remaining: 0 });
  });

  it("--since sends back only those given up since then", async () => {
    const { id, run } = await outage(1);
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const none = await run(["webhooks", "redeliver-failed", id, "--since", later, "--json"]);
    expect(none.status, none.stderr).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual({ endpoint_id: id, requeued: 0, remaining: 0 });
    const earlier = new Date(Date.now() - 3_600_000).toISOString();
    const one = await run(["webhooks", "redeliver-failed", id, "--since", earlier, "--json"]);
    expect(one.status, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ endpoint_id: id, requeued: 1, remaining: 0 });
  });

  it("exits 2 for a --since that is no time, 1 for an unknown or disabled endpoint (saying how to enable it)", async () => {
    const { tenant, id, run } = await outage(1);
    const usage = await run(["webhooks", "redeliver-failed", id, "--since", "yesterday"]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("--since yesterday is not an RFC 3339 time");

    const unknown = await run(["webhooks", "redeliver-failed", "wh_unknown"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("404 not_found");

    const off = await api("PATCH", `/api/v1/admin/webhooks/${id}`, { key: tenant.key, body: { enabled: false } });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    const disabled = await run(["webhooks", "redeliver-failed", id]);
    expect(disabled.status).toBe(1);
    expect(disabled.stderr).toContain("409 endpoint_disabled");
    expect(disabled.stderr).toContain(`enable it first (plinth webhooks enable ${id})`);
    const asJson = await run(["webhooks", "redeliver-failed", id, "--json"]);
    expect(asJson.status).toBe(1);
    expect(JSON.parse(asJson.stderr)).toMatchObject({ status: 409, code: "endpoint_disabled" });
  });
});

describe("plinth webhooks --tenant (the platform operator, with the root key)", () => {
  it("runs the runbook for a tenant with no key of the tenant: endpoints, failed deliveries, enable, redeliver, disable", async () => {
    const { tenant, id, target } = await outage(1);
    // The operator holds the root key only: the tenant's key is not in the environment.
    const operator = (args: string[]) =>
      plinth([...args, "--tenant", tenant.id, "--url", served().origin], { PLATFORM_ROOT_KEY: served().rootKey });

    const endpoints = await operator(["webhooks", "endpoints"]);
    expect(endpoints.stderr).toBe("");
    expect(endpoints.status).toBe(0);
    expect(endpoints.stdout).toMatch(
      new RegExp(`^${id} +127\\.0\\.0\\.1:\\d+ +blog\\.post\\.created +- +yes +\\S+$`, "m"),
    );
    const failed = await operator(["webhooks", "deliveries", id, "--failed"]);
    expect(failed.status, failed.stderr).toBe(0);
    expect(failed.stdout.match(/ webhooks\.test +failed +1 +500 /g)).toHaveLength(1);

    const off = await api("PATCH", `/api/v1/admin/webhooks/${id}`, { key: tenant.key, body: { enabled: false } });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    const refused = await operator(["webhooks", "redeliver-failed", id]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`enable it first (plinth webhooks enable ${id} --tenant ${tenant.id})`);
    const on = await operator(["webhooks", "enable", id]);
    expect(on.stderr).toBe("");
    expect(on.status).toBe(0);
    expect(on.stdout).toContain(`plinth webhooks redeliver-failed ${id} --tenant ${tenant.id}`);
    // Nothing changed the second time: said so, as without --tenant.
    const again = await operator(["webhooks", "enable", id]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(`${id} is already enabled`);

    receiver.set(target.path, "ok");
    const redelivered = await operator(["webhooks", "redeliver-failed", id, "--json"]);
    expect(redelivered.status, redelivered.stderr).toBe(0);
    expect(JSON.parse(redelivered.stdout)).toEqual({ endpoint_id: id, requeued: 1, remaining: 0 });
    await until("redelivered", () => (receiver.delivered(target.path).length === 1 ? true : undefined));

    // Disabling too (a receiver whose traffic must stop): it was the tenant's only, exit 2.
    const disable = await operator(["webhooks", "disable", id]);
    expect(disable.stderr).toBe("");
    expect(disable.status).toBe(0);
    expect(disable.stdout).toContain(`disabled ${id}`);
    expect(disable.stdout).toContain(`(to resume: plinth webhooks enable ${id} --tenant ${tenant.id})`);
    const read = await api("GET", `/api/v1/admin/webhooks/${id}`, { key: tenant.key });
    expect(read.body).toMatchObject({ enabled: false });
    const still = await operator(["webhooks", "disable", id]);
    expect(still.status, still.stderr).toBe(0);
    expect(still.stdout.trim()).toBe(`${id} is already disabled`);
    // Another tenant's id finds none of this tenant's endpoints.
    const other = await newTenantOf(served());
    const foreign = await plinth(["webhooks", "deliveries", id, "--tenant", other.id, "--url", served().origin], {
      PLATFORM_ROOT_KEY: served().rootKey,
    });
    expect(foreign.status).toBe(1);
    expect(foreign.stderr).toContain("404 not_found");
  });
});

/** A tenant with one endpoint (enabled), the CLI as its admin, and the endpoint as the API reads it. */
async function endpointOfNewTenant(urlOf = () => served().origin) {
  const tenant = await newTenantOf(served());
  const created = await api("POST", "/api/v1/admin/webhooks", {
    key: tenant.key,
    body: { url: receiver.path("toggle", "ok").url, events: ["blog.post.created"] },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = String(created.body.id);
  const run = (args: string[]) => plinth([...args, "--url", urlOf()], { PLINTH_KEY: tenant.key });
  const read = async () => (await api("GET", `/api/v1/admin/webhooks/${id}`, { key: tenant.key })).body;
  return { tenant, id, run, read };
}

describe("plinth webhooks enable / disable", () => {
  it("disables and enables an endpoint, says when it already is, and --json prints the endpoint", async () => {
    const { id, run, read } = await endpointOfNewTenant();
    const off = await run(["webhooks", "disable", id]);
    expect(off.stderr).toBe("");
    expect(off.status).toBe(0);
    expect(off.stdout).toContain(`disabled ${id}`);
    expect(off.stdout).toContain(`plinth webhooks enable ${id}`);
    const disabled = await read();
    expect(disabled).toMatchObject({ enabled: false, disabled_reason: null, version: 2 });

    // Nothing to change writes nothing: the version stays.
    const again = await run(["webhooks", "disable", id]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(`${id} is already disabled`);
    expect((await read()).version).toBe(2);

    // The refusal that made an operator look for this command now names it.
    const refused = await run(["webhooks", "redeliver-failed", id]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`enable it first (plinth webhooks enable ${id})`);

    const on = await run(["webhooks", "enable", id, "--json"]);
    expect(on.stderr).toBe("");
    expect(on.status).toBe(0);
    expect(JSON.parse(on.stdout)).toMatchObject({ id, enabled: true, disabled_reason: null, version: 3 });
    expect(await read()).toMatchObject({ enabled: true, version: 3 });
    const already = await run(["webhooks", "enable", id, "--json"]);
    expect(already.status, already.stderr).toBe(0);
    expect(JSON.parse(already.stdout)).toMatchObject({ id, enabled: true, version: 3 });
  });

  it("exits 2 without an endpoint, 1 for an unknown one", async () => {
    const { run } = await endpointOfNewTenant();
    const usage = await run(["webhooks", "enable"]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("webhooks enable takes 1 argument");
    const unknown = await run(["webhooks", "disable", "wh_unknown"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("404 not_found");
  });

  it("writes only over the version it read: a change between its read and its write is a 412, not overwritten", async () => {
    // A stand-in in front of the plinth: it answers the command's read of the endpoint, then
    // lets an admin change the endpoint (disabling it, with a new description) before the
    // command's write arrives.
    let changed = false;
    const proxy = createServer((req, res) => {
      let text = "";
      req.setEncoding("utf8");
      req.on("data", (c) => {
        text += c;
      });
      req.on("end", async () => {
        const headers: Record<string, string> = {};
        for (const name of ["authorization", "content-type", "if-match"]) {
          const value = req.headers[name];
          if (typeof value === "string") headers[name] = value;
        }
        const res2 = await fetch(`${served().origin}${req.url}`, {
          method: req.method,
          headers,
          ...(text ? { body: text } : {}),
        });
        const body = await res2.text();
        if (req.method === "GET" && !changed) {
          changed = true;
          const concurrent = await api("PATCH", `${req.url}`, {
            key: String(headers.authorization).replace("Bearer ", ""),
            body: { enabled: false, description: "paused by the on-call" },
          });
          expect(concurrent.status).toBe(200);
        }
        // The body is sent decoded: only the headers the command reads go with it.
        const answer: Record<string, string> = {};
        for (const name of ["content-type", "etag", "x-request-id"]) {
          const value = res2.headers.get(name);
          if (value !== null) answer[name] = value;
        }
        res.writeHead(res2.status, answer);
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const address = proxy.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      const { id, run, read } = await endpointOfNewTenant(() => `http://127.0.0.1:${address.port}`);
      // Read as enabled, so the command means to disable it: the admin's change came first.
      const raced = await run(["webhooks", "disable", id]);
      expect(raced.status).toBe(1);
      expect(raced.stderr).toContain("412 version_conflict");
      expect(raced.stderr).toContain(`changed since it was read`);
      expect(await read()).toMatchObject({ enabled: false, description: "paused by the on-call", version: 2 });
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

/** A plinth stand-in answering each redeliver-failed call with the next of `pages`; the calls' bodies. */
async function scripted(pages: { requeued: number; remaining: number }[]) {
  const bodies: unknown[] = [];
  const calls: { method?: string; url?: string; authorization?: string }[] = [];
  const server = createServer((req, res) => {
    calls.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c) => {
      text += c;
    });
    req.on("end", () => {
      bodies.push(JSON.parse(text || "{}"));
      res.writeHead(200, { "content-type": "application/json", ...STAND_IN_HEADERS });
      res.end(JSON.stringify(pages[bodies.length - 1] ?? { requeued: 0, remaining: 0 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const run = (args: string[]) =>
    plinth([...args, "--url", `http://127.0.0.1:${address.port}`], { PLINTH_KEY: "plk_dev_scripted" });
  const runAsPlatform = (args: string[]) =>
    plinth([...args, "--url", `http://127.0.0.1:${address.port}`], { PLATFORM_ROOT_KEY: "root_scripted" });
  const stop = () => new Promise((resolve) => server.close(resolve));
  return { bodies, calls, run, runAsPlatform, stop };
}

describe("plinth webhooks redeliver-failed, page by page", () => {
  it("calls again while some remain, a line per call, and sends --since on each", async () => {
    const api = await scripted([
      { requeued: 100, remaining: 37 },
      { requeued: 37, remaining: 0 },
    ]);
    try {
      const since = "2026-12-05T06:00:00Z";
      const run = await api.run(["webhooks", "redeliver-failed", "wh_x", "--since", since]);
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      expect(run.stdout.trim().split("\n")).toEqual([
        "requeued 100, 37 remaining",
        "requeued 37, 0 remaining",
        "requeued 137 failed deliveries of wh_x, oldest first, with their webhook-id unchanged",
      ]);
      expect(api.bodies).toEqual([{ since }, { since }]);
    } finally {
      await api.stop();
    }
  });

  it("stops, exit 1, when a call sends none back while some remain, rather than calling for ever", async () => {
    const api = await scripted([
      { requeued: 100, remaining: 5 },
      { requeued: 0, remaining: 5 },
      { requeued: 0, remaining: 5 },
    ]);
    try {
      const run = await api.run(["webhooks", "redeliver-failed", "wh_x", "--json"]);
      expect(run.status).toBe(1);
      expect(JSON.parse(run.stdout)).toEqual({ endpoint_id: "wh_x", requeued: 100, remaining: 5 });
      // Under --json, stderr is JSON too (scripts/lib/cli-stderr.mjs).
      expect(JSON.parse(run.stderr)).toEqual({
        error: "api",
        exit_code: 1,
        detail: "5 failed deliveries were not requeued: run the command again",
      });
      expect(api.bodies).toHaveLength(2);
    } finally {
      await api.stop();
    }
  });

  it("with --tenant, calls the platform's route for that tenant with the root key, never the tenant's", async () => {
    const api = await scripted([{ requeued: 3, remaining: 0 }]);
    try {
      const run = await api.runAsPlatform(["webhooks", "redeliver-failed", "wh_x", "--tenant", "t_1"]);
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      expect(api.calls).toEqual([
        {
          method: "POST",
          url: "/api/v1/platform/tenants/t_1/webhooks/wh_x/redeliver-failed",
          authorization: "Bearer root_scripted",
        },
      ]);
      const withKeyFile = await api.runAsPlatform(["webhooks", "endpoints", "--tenant", "t_1", "--key-file", "k"]);
      expect(withKeyFile.status).toBe(2);
      expect(withKeyFile.stderr).toContain("--tenant acts with the platform root key");
    } finally {
      await api.stop();
    }
  });
});
