import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import { postDecider } from "../../src/modules/blog/domain";
import { call, newTenant, ORIGIN } from "../identity/helpers";

// Why the 50 x 20 HTTP race calls the Worker's fetch handler itself and not SELF:
// the test pool wraps the Worker entrypoint in a new Proxy around the previous one
// on every SELF request (vitest-pool-workers 0.15.1, test-internal.mjs
// createProxyPrototypeClass), so a few thousand SELF.fetch calls in one file slow
// down quadratically and overflow the stack. The handler is the same code that
// serves production requests: the whole Hono app, the command bus, the DO.

describe("optimistic concurrency on one post", () => {
  it("50 writers x 20 conditional commands on the aggregate: no lost update, every loser is refused", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "race", content: "" } });
    const id = created.body.id as string;
    const post = aggregateOf(env, postDecider, t.id, id);
    const WRITERS = 50;
    const COMMANDS = 20;
    let successes = 0;
    const refusals: string[] = [];
    const writer = async (w: number) => {
      for (let i = 0; i < COMMANDS; i++) {
        const { version } = await post.state();
        const reply = await post.handle({
          command: { type: "update", content: `writer ${w} command ${i}` },
          expectedVersion: version,
          ctx: { now: "2026-06-01T00:00:00.000Z", actor: { kind: "api_key", id: "race" } },
          requestId: null,
        });
        if (reply.ok) successes++;
        else refusals.push(reply.error.code);
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    expect(successes + refusals.length).toBe(WRITERS * COMMANDS);
    expect(new Set(refusals)).toEqual(refusals.length > 0 ? new Set(["version_conflict"]) : new Set());
    expect(successes).toBeGreaterThan(0);
    const { version } = await post.state();
    // Version 1 is the creation; each success added exactly one version.
    expect(version).toBe(1 + successes);
    const events = await post.read(1, 1000);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: version }, (_, i) => i + 1));
  }, 60_000);

  it("10 writers x 5 conditional PATCHes over HTTP: winners 200, losers 412, version = successes + 1", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "race", content: "" } });
    const id = created.body.id as string;
    let successes = 0;
    let conflicts = 0;
    const others: number[] = [];
    const writer = async (w: number) => {
      for (let i = 0; i < 5; i++) {
        const current = await call(`/api/v1/blog/posts/${id}?consistency=strong`, { token: t.adminKey });
        const res = await call(`/api/v1/blog/posts/${id}`, {
          method: "PATCH",
          token: t.adminKey,
          headers: { "if-match": `"${current.body.version}"` },
          body: { content: `writer ${w} command ${i}` },
        });
        if (res.status === 200) successes++;
        else if (res.status === 412) conflicts++;
        else others.push(res.status);
      }
    };
    await Promise.all(Array.from({ length: 10 }, (_, w) => writer(w)));
    expect(others).toEqual([]);
    expect(successes + conflicts).toBe(50);
    const final = await call(`/api/v1/blog/posts/${id}?consistency=strong`, { token: t.adminKey });
    expect(final.body.version).toBe(1 + successes);
  }, 60_000);

  it("50 writers x 20 conditional PATCHes through the Worker's fetch handler: no lost update, losers 412", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/blog/posts", { token: t.adminKey, body: { title: "race", content: "" } });
    const id = created.body.id as string;
    const request = async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
      const init: RequestInit = { method, headers: { authorization: `Bearer ${t.adminKey}`, ...headers } };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { ...init.headers, "content-type": "application/json" };
      }
      return worker.fetch(new Request(`${ORIGIN}${path}`, init), env, createExecutionContext());
    };
    let successes = 0;
    let conflicts = 0;
    const others: number[] = [];
    const writer = async (w: number) => {
      for (let i = 0; i < 20; i++) {
        const current = await request("GET", `/api/v1/blog/posts/${id}?consistency=strong`);
        const { version } = (await current.json()) as { version: number };
        const res = await request(
          "PATCH",
          `/api/v1/blog/posts/${id}`,
          { "if-match": `"${version}"` },
          { content: `writer ${w} command ${i}` },
        );
        await res.body?.cancel();
        if (res.status === 200) successes++;
        else if (res.status === 412) conflicts++;
        else others.push(res.status);
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, w) => writer(w)));
    expect(others).toEqual([]);
    expect(successes + conflicts).toBe(1000);
    expect(successes).toBeGreaterThan(0);
    const final = await call(`/api/v1/blog/posts/${id}?consistency=strong`, { token: t.adminKey });
    expect(final.body.version).toBe(1 + successes);
  }, 120_000);
});
