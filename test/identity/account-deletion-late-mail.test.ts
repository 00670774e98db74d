// Deleting an account dismisses the mail dead letters to its address, but mail still on the queue
// then (retried for up to a day while a provider is down) can fail into the dead letters after
// the deletion: kept, an operator's replay would mail the person who asked to be gone. The
// deletion holds the recipient's keyed digest for the queue's longest life (kernel/notify/
// late-mail.ts), the store refuses letters to it, and the hourly purge forgets it afterwards.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { lateMailWindowMs } from "../../src/kernel/notify/late-mail";
import { audit } from "../../src/modules/audit";
import { identity } from "../../src/modules/identity";
import { system } from "../../src/modules/system";
import { tenants } from "../../src/modules/tenants";
import { runJobNamed, testApp } from "../helpers";
import { consume, messagesOf, sampleMail, testConfig } from "../notify/helpers";
import { call, callerOf, newTenant, newUser, rootKey } from "./helpers";

/** The tenant's mail dead letters the operator sees, as their mail ids. */
async function lettersOf(tenantId: string): Promise<string[]> {
  const res = await call(`/api/v1/platform/mail/dead-letters?tenant_id=${tenantId}`, { token: rootKey() });
  return (res.body.items as { mail_id: string }[]).map((l) => l.mail_id);
}

/** A mail of tenant `tenantId` to `to`, as it sits on the queue. */
async function queued(tenantId: string, to: string) {
  const [message] = await messagesOf([sampleMail(to, tenantId)]);
  if (!message) throw new Error("no message");
  return message;
}

/** How many recipient digests of the tenant the dead-letter store refuses now or later. */
async function heldFor(tenantId: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from mail_suppressions where tenant_id = ?")
    .bind(tenantId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

afterEach(() => vi.restoreAllMocks());

describe("mail to a deleted account that fails after the deletion", () => {
  it("is never stored as a dead letter, so no replay mails them; others' mail still is", async () => {
    const info = vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("late-mail");
    const person = await newUser(t.slug, `late.${crypto.randomUUID().slice(0, 8)}@example.com`);
    // Queued before the deletion, failing while the provider is down.
    const theirs = await queued(t.id, person.email);
    const upper = await queued(t.id, person.email.toUpperCase());
    const other = await queued(t.id, "still.here@example.com");

    const del = await call(`/api/v1/users/${person.id}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);

    // Retries spent, after the deletion: the dead-letter queue's consumer takes them.
    const { result, ids } = await consume([theirs, upper, other], {
      queue: "plinth-mail-dlq",
      attempts: 31,
      // The suite logs warnings only; the drop is an info line.
      env: { ...env, LOG_LEVEL: "info" },
    });
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(result.retryMessages).toEqual([]);
    expect(await lettersOf(t.id)).toEqual([other.id]);
    const replay = await call("/api/v1/platform/mail/replay-dead-letters", {
      token: rootKey(),
      body: { tenant_id: t.id },
    });
    expect(replay.body).toMatchObject({ replayed: 1, more: false });

    // Recorded without the address: the mail, its tenant, why.
    const lines = info.mock.calls.map(([l]) => String(l)).filter((l) => l.includes("deleted recipient dropped"));
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ cause: "recipient_deleted", tenant_id: t.id });
    for (const line of lines) expect(line.toLowerCase()).not.toContain(person.email);
  });

  it("is refused until the queue's longest life has passed, then the purge forgets the digest (injected clock)", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const t = await newTenant("late-mail-window");
    const person = await newUser(t.slug, `window.${crypto.randomUUID().slice(0, 8)}@example.com`);
    const deletedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const clock = manualClock(deletedAt);
    const p = callerOf(testApp([system(), tenants(), identity(), audit()], {}, undefined, clock).fetch);
    const del = await p(`/api/v1/users/${person.id}`, { method: "DELETE", token: t.adminKey });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    expect(await heldFor(t.id)).toBe(1);

    const window = lateMailWindowMs(testConfig().mail.retry);
    // Longer than the mail queue's own retries take at their longest (a day with the defaults).
    expect(window).toBeGreaterThan(24 * 3_600_000);
    const late = manualClock(new Date(deletedAt.getTime() + window - 1_000));
    const lastMoment = await queued(t.id, person.email);
    await consume([lastMoment], { queue: "plinth-mail-dlq", attempts: 31, clock: late });
    expect(await lettersOf(t.id)).toEqual([]);
    // The purge keeps the digest while mail queued before the deletion can still fail.
    await runJobNamed("tenants/purge-tokens", { clock: late });
    expect(await heldFor(t.id)).toBe(1);

    // Past it: the purge deletes the digest, and the store refuses nothing to that address.
    const after = manualClock(new Date(deletedAt.getTime() + window));
    expect((await runJobNamed("tenants/purge-tokens", { clock: after })).ran).toBe(true);
    expect(await heldFor(t.id)).toBe(0);
    const later = await queued(t.id, person.email);
    await consume([later], { queue: "plinth-mail-dlq", attempts: 31, clock: after });
    expect(await lettersOf(t.id)).toEqual([later.id]);
  });
});
