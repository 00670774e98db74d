// A PATCH that changes an endpoint's URL or filters is checked against the endpoint as the
// handler read it (filters.ts, readable.ts): a URL change against its filters then, a filter
// kept against the filters held then. Without If-Match the write was not pinned to that
// version, so a change that landed in between (an owner widening the filters to `*`) went to
// the new URL, or was overwritten by filters the caller may not read, unchecked. Each race
// here is driven deterministically: the registry's `get` answers the handler, then the other
// write lands, before the handler's own write.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { call, callerOf, newKey, newTenant } from "../identity/helpers";

const WRITE = "admin.webhooks.write";
const HERE = "https://hooks.example.com/in";
const ELSEWHERE = "https://elsewhere.example.com/in";

/** An app whose webhook registry runs `between` (once) after answering a `get`, before the handler goes on. */
function racedApp() {
  const race: { between?: () => Promise<void> } = {};
  const WEBHOOK_REGISTRY = {
    getByName(name: string) {
      const stub = env.WEBHOOK_REGISTRY.getByName(name);
      return new Proxy(stub, {
        get(target, prop) {
          if (prop !== "get") return Reflect.get(target, prop);
          return async (...args: Parameters<typeof target.get>) => {
            const answer = await target.get(...args);
            const between = race.between;
            race.between = undefined;
            await between?.();
            return answer;
          };
        },
      });
    },
  };
  return { race, call: callerOf(testApp(modules, { WEBHOOK_REGISTRY }).fetch) };
}

/** A tenant, an endpoint of `events` its owner made, and a key that reads webhooks.* events only. */
async function setup(events: string[]) {
  const t = await newTenant("pinned");
  const made = await call("/api/v1/admin/webhooks", { token: t.adminKey, body: { url: HERE, events } });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  const { key } = await newKey(t.adminKey, [WRITE, "admin.webhooks.read"]);
  const id = made.body.id as string;
  const owner = (body: Record<string, unknown>) =>
    call(`/api/v1/admin/webhooks/${id}`, { method: "PATCH", token: t.adminKey, body });
  const read = async () => (await call(`/api/v1/admin/webhooks/${id}`, { token: t.adminKey })).body;
  return { id, key, owner, read };
}

/**
 * The key's PATCH of an endpoint the owner made with `events`, through an app where the owner
 * changes the filters to `theirs` right after the handler read the endpoint: its answer, and the
 * endpoint after it.
 */
async function racedPatch(
  events: string[],
  theirs: string[],
  patch: { body: Record<string, unknown>; headers?: Record<string, string> },
) {
  const { id, key, owner, read } = await setup(events);
  const app = racedApp();
  app.race.between = async () => {
    expect((await owner({ events: theirs })).status).toBe(200);
  };
  const res = await app.call(`/api/v1/admin/webhooks/${id}`, { method: "PATCH", token: key, ...patch });
  return { res, after: await read() };
}

describe("a PATCH of an endpoint's URL or filters is pinned to the version it was checked against", () => {
  it("a URL-only PATCH without If-Match is a 412 when the filters were widened after the check", async () => {
    const { res, after } = await racedPatch(["webhooks.*"], ["*"], { body: { url: ELSEWHERE } });
    expect(res.status, JSON.stringify(res.body)).toBe(412);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body).toMatchObject({ code: "version_conflict", status: 412, current_version: 2 });
    // The key, which does not read `*`, did not send every event to its URL.
    expect(after).toMatchObject({ url: HERE, events: ["*"], version: 2 });
  });

  it("If-Match: * does not stand in for the version checked", async () => {
    const { res, after } = await racedPatch(["webhooks.*"], ["*"], {
      headers: { "if-match": "*" },
      body: { url: ELSEWHERE },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(412);
    expect(after).toMatchObject({ url: HERE, events: ["*"] });
  });

  it("filters kept as read are a 412 when the endpoint was narrowed after the check", async () => {
    // The key sends back the `*` it read, with a change of its own: allowed as kept, only over `*`.
    const { res, after } = await racedPatch(["*"], ["webhooks.*"], {
      body: { events: ["*", "webhooks.endpoint.created"] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(412);
    expect(res.body).toMatchObject({ code: "version_conflict", current_version: 2 });
    expect(after).toMatchObject({ events: ["webhooks.*"], version: 2 });
  });

  it("If-Match naming another version than the one checked is a 412 before any write", async () => {
    const { id, key, read } = await setup(["webhooks.*"]);
    const res = await call(`/api/v1/admin/webhooks/${id}`, {
      method: "PATCH",
      token: key,
      headers: { "if-match": '"7"' },
      body: { url: ELSEWHERE },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(412);
    expect(res.body).toMatchObject({ code: "version_conflict", current_version: 1 });
    expect(await read()).toMatchObject({ url: HERE, version: 1 });
  });

  it("without a race, a URL or filter PATCH with or without If-Match still writes", async () => {
    const { id, key, read } = await setup(["webhooks.*"]);
    const patch = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      call(`/api/v1/admin/webhooks/${id}`, { method: "PATCH", token: key, headers, body });
    const moved = await patch({ url: ELSEWHERE });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.headers.get("etag")).toBe('"2"');
    const narrowed = await patch({ events: ["webhooks.endpoint.created"] }, { "if-match": '"2"' });
    expect(narrowed.status, JSON.stringify(narrowed.body)).toBe(200);
    expect(await read()).toMatchObject({ url: ELSEWHERE, events: ["webhooks.endpoint.created"], version: 3 });
  });
});
