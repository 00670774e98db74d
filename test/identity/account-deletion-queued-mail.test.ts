// Mail to an account that is deleted while the mail is still on the queue (a verification queued
// just before, retried while the provider is down) must not reach the person when the provider
// recovers: they asked to be gone. The consumer looks up the batch's recipient digests among those
// the deletion holds (D1 `mail_suppressions`), in one read, and drops a held one unsent.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { lateMailWindowMs } from "../../src/kernel/notify/late-mail";
import { MailNotSent } from "../../src/kernel/notify/transport";
import { audit } from "../../src/modules/audit";
import { identity } from "../../src/modules/identity";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { testApp } from "../helpers";
import { consume, messagesOf, recordingTransport, sampleMail, testConfig } from "../notify/helpers";
import { call, callerOf, newTenant, newUser } from "./helpers";

/**
 * The test env with its D1 wrapped: `prepared` lists each statement the consumer prepares on it, and
 * a statement naming `mail_suppressions` throws when `failHeld` is set (a D1 outage). Its own env,
 * so the suite's queue consumer running beside the test does not count.
 */
function watchedEnv({ failHeld = false } = {}) {
  const prepared: string[] = [];
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") {
        return (query: string) => {
          prepared.push(query);
          if (failHeld && query.includes("mail_suppressions")) throw new Error("D1_ERROR: unavailable");
          return target.prepare(query);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { env: { ...env, DB: db }, prepared };
}

/** A mail of tenant `tenantId` to `to`, as it sits on the queue. */
async function queued(tenantId: string, to: string) {
  const [message] = await messagesOf([sampleMail(to, tenantId)]);
  if (!message) throw new Error("no message");
  return message;
}

afterEach(() => vi.restoreAllMocks());

describe("mail to a deleted account still on the queue", () => {
  it("is not sent when the provider recovers: acked and logged without the address; others' mail is sent", async () => {
    const info = vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("queued-mail");
    const person = await newUser(t.slug, `queued.${crypto.randomUUID().slice(0, 8)}@example.com`);
    const theirs = await queued(t.id, person.email);
    const upper = await queued(t.id, person.email.toUpperCase());
    const other = await queued(t.id, "stays.here@example.com");

    // Queued before the deletion; the provider is down, so the first attempt is retried.
    const down = recordingTransport(() => new MailNotSent("provider down"));
    const first = await consume([theirs], { transport: () => down.transport });
    expect(first.result.retryMessages).toHaveLength(1);

    const del = await call(`/api/v1/users/${person.id}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);

    // The provider recovered: the retry of the batch reaches the consumer again.
    const up = recordingTransport();
    const { result, ids } = await consume([theirs, upper, other], {
      transport: () => up.transport,
      attempts: 2,
      env: { ...env, LOG_LEVEL: "info" },
    });
    expect(up.calls.map((c) => c.to)).toEqual(["stays.here@example.com"]);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(result.retryMessages).toEqual([]);

    const lines = info.mock.calls.map(([l]) => String(l)).filter((l) => l.includes("deleted recipient dropped"));
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({
      cause: "recipient_deleted",
      tenant_id: t.id,
      mail_id: theirs.id,
      mail_kind: "identity.verify-email",
    });
    for (const line of lines) expect(line.toLowerCase()).not.toContain(person.email);
  });

  it("is held per tenant: the same address in another tenant is still mailed", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const a = await newTenant("queued-a");
    const b = await newTenant("queued-b");
    const email = `twice.${crypto.randomUUID().slice(0, 8)}@example.com`;
    const inA = await newUser(a.slug, email);
    await newUser(b.slug, email);
    const del = await call(`/api/v1/users/${inA.id}`, { method: "DELETE", token: a.adminKey });
    expect(del.status).toBe(204);

    const up = recordingTransport();
    await consume([await queued(a.id, email), await queued(b.id, email)], { transport: () => up.transport });
    expect(up.calls.map((c) => c.tenantId)).toEqual([b.id]);
  });

  it("is held only for the queue's longest life: past it the address is mailed again (injected clock)", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("queued-window");
    const person = await newUser(t.slug, `qwindow.${crypto.randomUUID().slice(0, 8)}@example.com`);
    const deletedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const p = callerOf(
      testApp([system(), tenants(), identity(), audit()], {}, undefined, manualClock(deletedAt)).fetch,
    );
    const del = await p(`/api/v1/users/${person.id}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    const window = lateMailWindowMs(testConfig().mail.retry);

    const before = recordingTransport();
    const lastMoment = manualClock(new Date(deletedAt.getTime() + window - 1_000));
    await consume([await queued(t.id, person.email)], { transport: () => before.transport, clock: lastMoment });
    expect(before.calls).toEqual([]);

    // The purge has not run yet: the row is there, but its time has passed.
    const after = recordingTransport();
    const past = manualClock(new Date(deletedAt.getTime() + window));
    await consume([await queued(t.id, person.email)], { transport: () => after.transport, clock: past });
    expect(after.calls.map((c) => c.to)).toEqual([person.email]);
  });

  it("reads the held digests once per batch, not once per message", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("queued-once");
    const messages = await messagesOf(
      Array.from({ length: 5 }, (_, i) =>
        sampleMail(`reader${i}.${crypto.randomUUID().slice(0, 6)}@example.com`, t.id),
      ),
    );
    const watched = watchedEnv();
    const up = recordingTransport();
    await consume(messages, { transport: () => up.transport, env: watched.env });
    expect(up.calls).toHaveLength(5);
    const reads = watched.prepared.filter((q) => q.includes("mail_suppressions"));
    expect(reads).toHaveLength(1);
  });

  it("a batch whose held digests cannot be read is retried, none sent", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    const t = await newTenant("queued-d1-down");
    const messages = await messagesOf([sampleMail("a.d1@example.com", t.id), sampleMail("b.d1@example.com", t.id)]);
    const up = recordingTransport();
    const { result, retries } = await consume(messages, {
      transport: () => up.transport,
      env: watchedEnv({ failHeld: true }).env,
    });
    expect(up.calls).toEqual([]);
    expect(result.explicitAcks).toEqual([]);
    expect(retries).toHaveLength(2);
  });
});
