// What a product module's actor records of who caused its event: the request's origin as the
// kernel builds it (originOf), sent with the message and spread into the event, without importing
// identity (test/node/module-imports.test.ts refuses that). The module below is test-only: a route
// sends the origin to the probe actor (test/actors/probe-actor.ts), which emits a note with it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClock, systemClock } from "../../src/kernel/clock";
import { originOf } from "../../src/kernel/events/origin";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { createRouter } from "../../src/kernel/openapi/router";
import { modules } from "../../src/modules";
import { ipHashOf, testApp } from "../helpers";
import { call, newTenant, newUser, ORIGIN } from "../identity/helpers";

const AT = "2031-02-03T04:05:06.000Z";
let n = 0;

/** A notes module as a product team writes one: its route hands the request's origin to its actor. */
const notes = (): ModuleDef => ({
  name: "notes",
  version: "1.0.0",
  routes: createRouter().post("/:name", async (c) => {
    const origin = originOf(c);
    await env.PROBE_ACTOR.getByName(c.req.param("name")).noteBy({ value: "hello", origin });
    return c.json(origin);
  }),
});

/**
 * Sends a note as `token` (none: anonymous) under `clock`, and answers the origin the route sent
 * and the event's envelope.
 */
async function noteAs(slug: string, token: string | null, headers: Record<string, string> = {}, clock = systemClock) {
  const { fetch } = testApp([...modules, notes()], {}, undefined, clock);
  const name = `origin-${++n}`;
  const res = await fetch(`${ORIGIN}/api/v1/notes/${name}`, {
    method: "POST",
    headers: { "x-tenant": slug, ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const [envelope] = await env.PROBE_ACTOR.getByName(name).envelopes();
  return { sent: await res.json(), event: JSON.parse(envelope ?? "null") };
}

describe("a request's origin, to a module's actor", () => {
  it("names the API key, the request and the client's address hash in the emitted event", async () => {
    const t = await newTenant("origin-key");
    const keyId = ((await call("/api/v1/me", { token: t.adminKey })).body.key as { id: string }).id;
    const { sent, event } = await noteAs(
      t.slug,
      t.adminKey,
      {
        "x-request-id": "req-origin-1",
        "cf-connecting-ip": "203.0.113.7",
      },
      manualClock(AT),
    );
    const ipHash = await ipHashOf(t.id, "203.0.113.7");
    expect(ipHash).toMatch(/^[0-9a-f]{32}$/);
    expect(event).toMatchObject({
      type: "probe.note.added",
      data: { value: "hello" },
      actor: { kind: "api_key", id: keyId },
      request_id: "req-origin-1",
      ip_hash: ipHash,
    });
    // The request's clock: a test's manual clock is the time the object is told.
    expect(sent).toMatchObject({ now: AT, requestId: "req-origin-1", ipHash });
    expect(ipHash).not.toBe(await ipHashOf(t.id, "203.0.113.8"));
  });

  it("names a signed-in user, and an anonymous caller as anonymous", async () => {
    const t = await newTenant("origin-user");
    const u = await newUser(t.slug);
    const byUser = await noteAs(t.slug, u.access_token, { "x-request-id": "req-origin-2" });
    expect(byUser.event).toMatchObject({ actor: { kind: "user", id: u.id }, request_id: "req-origin-2" });
    // No address reported: no hash, rather than one of an empty address.
    expect(byUser.event.ip_hash).toBeUndefined();

    const anonymous = await noteAs(t.slug, null, { "x-request-id": "req-origin-3" });
    expect(anonymous.event).toMatchObject({ actor: { kind: "anonymous", id: null }, request_id: "req-origin-3" });
  });
});
