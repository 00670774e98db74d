import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import type { TenantDirectory } from "../../durable-objects/tenant-directory";
import { type Envelope, EnvelopeSchema } from "../../src/kernel/events/envelope";
import { eventsOf } from "../../src/kernel/events/pack";
import { SAFETY_NET_MS } from "../../src/kernel/outbox/relay";
import { directory } from "../../src/modules/identity/directory/contract";
import { directoryClock } from "../object-clocks";
import { call, newTenant, newUser, PASSWORD, spentLongAgo } from "./helpers";

const directoryOf = (tenantId: string) => directory(env, tenantId);
const stubOf = (tenantId: string) => env.TENANT_DIRECTORY.getByName(tenantId);

// The directory reads `env.EVENTS` from the same object as this test, so a
// pass-through spy sees exactly what its outbox relay hands to the queue.
let sendBatch: MockInstance<Queue["sendBatch"]>;
beforeEach(() => {
  sendBatch = vi.spyOn(env.EVENTS, "sendBatch");
});
afterEach(() => vi.restoreAllMocks());

/** The events a tenant's directory sent to EVENTS, in send order, once its outbox has drained. */
async function sentBy(tenantId: string): Promise<Envelope[]> {
  for (let i = 0; i < 200 && (await directoryOf(tenantId).outbox(100)).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(await directoryOf(tenantId).outbox(100)).toEqual([]);
  return sendBatch.mock.calls
    .flatMap(([messages]) => [...messages].flatMap((m) => eventsOf(m.body).map((e) => EnvelopeSchema.parse(e))))
    .filter((e) => e.tenant_id === tenantId);
}

describe("directory outbox", () => {
  it("every state change's event reaches the EVENTS queue, once, in order, with the envelope", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    await call("/api/v1/auth/login", { tenant: t.slug, body: { email: u.email, password: "wrong password!!" } });
    const events = await sentBy(t.id);
    expect(events.map((e) => e.type)).toEqual([
      "tenants.tenant.created",
      "identity.key.created",
      "identity.user.registered",
      "identity.user.logged_in",
      "identity.login.failed",
    ]);
    // Each stream numbers its own events from 1: the user's registration and login are 1 and 2.
    expect(events.map((e) => [e.stream.slice(t.id.length + 1).split("/")[0], e.version])).toEqual([
      ["tenant", 1],
      ["key", 1],
      ["user", 1],
      ["user", 2],
      ["logins", 1],
    ]);
    const registered = events[2];
    expect(registered).toMatchObject({
      tenant_id: t.id,
      stream: `${t.id}/user/${u.id}`,
      actor: { kind: "anonymous", id: null },
      data: { user_id: u.id, roles: ["member"] },
    });
    expect(typeof registered?.request_id).toBe("string");
    expect(JSON.stringify(events)).not.toContain(u.email);
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
  });

  it("state and outbox commit together: a failing outbox write leaves no user either", async () => {
    const t = await newTenant();
    const stub = stubOf(t.id);
    // Let the tenant's own events leave first, so no drain is reading the table we break.
    await sentBy(t.id);
    // Break the outbox so the event insert fails inside the registration transaction.
    await runInDurableObject(stub, (_: TenantDirectory, state) => {
      state.storage.sql.exec("alter table outbox rename to outbox_broken");
    });
    const res = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: "atomic@example.com", password: PASSWORD, name: "Atomic" },
    });
    expect(res.status).toBe(500);
    const users = await runInDurableObject(stub, (_: TenantDirectory, state) =>
      state.storage.sql.exec("select count(*) as n from users").one(),
    );
    expect(users.n).toBe(0);
    // Repaired, the same registration succeeds: nothing half-written was left behind.
    await runInDurableObject(stub, (_: TenantDirectory, state) => {
      state.storage.sql.exec("alter table outbox_broken rename to outbox");
    });
    const again = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: "atomic@example.com", password: PASSWORD, name: "Atomic" },
    });
    expect(again.status).toBe(201);
    const registered = (await sentBy(t.id)).filter((e) => e.type === "identity.user.registered");
    expect(registered).toHaveLength(1);
  });

  it("a family revoked for reuse is recorded", async () => {
    const t = await newTenant();
    const u = await newUser(t.slug);
    await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    await spentLongAgo(t.id);
    await call("/api/v1/auth/refresh", { tenant: t.slug, body: { refresh_token: u.refresh_token } });
    const events = await sentBy(t.id);
    expect(events.at(-1)).toMatchObject({
      type: "identity.token.family_revoked",
      data: { user_id: u.id, reason: "reuse_detected" },
    });
  });
});

describe("directory outbox on the directory's clock", () => {
  // The isolate's metrics flusher, last flushed at this clock's (future) time, flushes again at
  // the next call on the runtime's clock (src/kernel/metrics/flush.ts): nothing to undo but the clock.
  afterEach(() => directoryClock.release());

  it("its relay arms the safety-net alarm by the clock the directory is built over", async () => {
    // The test Worker builds TenantDirectory over directoryClock. A day ahead of the runtime's
    // clock, so the alarm does not fire by itself before it is read.
    const at = Date.now() + 86_400_000;
    directoryClock.set(new Date(at));
    const t = await newTenant();
    expect((await sentBy(t.id)).map((e) => e.type)).toContain("tenants.tenant.created");
    const alarm = await runInDurableObject(stubOf(t.id), (_: TenantDirectory, state) => state.storage.getAlarm());
    expect(alarm).toBe(at + SAFETY_NET_MS);
  });
});
