// A disabled endpoint is told to the tenant's owners and admins by mail: its host, why it
// stopped, how to enable it again. An address nobody verified may not be the account holder's
// (anyone can register with, or an admin be granted a role under, an address they do not own),
// so, like login under require_verified_email and a verification resend, this operational mail
// goes only to addresses that proved they reach the person.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Envelope } from "../../src/kernel/events/envelope";
import { createLogger } from "../../src/kernel/log";
import { contentOf, MailMessageSchema } from "../../src/kernel/notify/message";
import { notifyDisabled } from "../../src/modules/webhooks/subscriber";
import { deliver, testRuntime } from "../helpers";
import { call, mailSettled, mailsTo, mailTo, newTenant, register, rootKey, tokenIn } from "../identity/helpers";

/** The mail queue's messages, as a subscriber sends them. */
function capturingQueue() {
  const sent: unknown[] = [];
  const queue = {
    send: async (body: unknown) => void sent.push(body),
    sendBatch: async () => {},
  } as unknown as Queue;
  return { queue, sent };
}

let users = 0;
/** A user of the tenant holding `role`, their email verified through the mail's token or not. */
async function userWith(t: { slug: string; adminKey: string }, role: string, verified: boolean): Promise<string> {
  const email = `${role}-${verified ? "v" : "u"}-${++users}-${t.slug}@example.com`;
  const user = await register(t.slug, email);
  if (verified) {
    const token = tokenIn(await mailTo(t.slug, email, "Verify"));
    const spent = await call("/api/v1/auth/verify-email", { tenant: t.slug, body: { token } });
    expect(spent.status, JSON.stringify(spent.body)).toBe(204);
  }
  if (role !== "member") {
    const granted = await call(`/api/v1/admin/users/${user.id}/roles/${role}`, { method: "PUT", token: t.adminKey });
    expect(granted.status, JSON.stringify(granted.body)).toBe(204);
  }
  return email;
}

const disabledEvent = (tenantId: string): Envelope => ({
  id: `evt-${crypto.randomUUID()}`,
  type: "webhooks.endpoint.disabled",
  tenant_id: tenantId,
  stream: `${tenantId}/webhook-endpoint/ep-1`,
  version: 3,
  occurred_at: "2026-07-01T08:00:00.000Z",
  actor: { kind: "system", id: null },
  request_id: null,
  data: { endpoint_id: "ep-1", host: "hooks.example.net", reason: "failing", failures: 12, failing_since: null },
});

/** A `webhooks.endpoint.updated` of endpoint ep-1 by `actor`, leaving it as `data` says. */
const updatedEvent = (
  tenantId: string,
  actor: Envelope["actor"],
  data: { enabled: boolean; disabled_reason: string | null; disabled_note: string | null },
): Envelope => ({
  ...disabledEvent(tenantId),
  type: "webhooks.endpoint.updated",
  actor,
  data: { endpoint_id: "ep-1", host: "hooks.example.net", events: ["blog.post.*"], ...data },
});

/** The mails the subscriber queues for `events` of tenant `tenantId`: id, recipient, text. */
async function mailsOf(tenantId: string, events: Envelope[] = [disabledEvent(tenantId)]) {
  const { queue, sent } = capturingQueue();
  const runtime = { ...testRuntime(), log: createLogger("warn") };
  for (const event of events) await deliver(notifyDisabled, [event], { ...runtime, env: { ...env, MAIL: queue } });
  const mails: { id: string; to: string; text: string }[] = [];
  for (const body of sent) {
    const message = MailMessageSchema.parse(body);
    const content = await contentOf(message, runtime.config.encryptionKeys);
    mails.push({ id: message.id, to: content.to, text: content.text });
  }
  return mails;
}

/** Whom the subscriber mails for one disabled endpoint of tenant `tenantId`. */
const recipientsOf = async (tenantId: string) => (await mailsOf(tenantId)).map((m) => m.to).sort();

afterEach(() => vi.restoreAllMocks());

describe("the endpoint-disabled mail", () => {
  it("goes to the owners and admins whose email is verified, not to unverified ones nor to members", async () => {
    const t = await newTenant("whmail");
    const owner = await userWith(t, "owner", true);
    const admin = await userWith(t, "admin", true);
    await userWith(t, "owner", false);
    await userWith(t, "admin", false);
    await userWith(t, "member", true);
    expect(await recipientsOf(t.id)).toEqual([admin, owner].sort());
  });

  it("does not go to a suspended owner or admin: their access is paused, so is the tenant's news", async () => {
    const t = await newTenant("whmail");
    const owner = await userWith(t, "owner", true);
    const admin = await userWith(t, "admin", true);
    const listed = await call("/api/v1/users", { token: t.adminKey });
    const adminId = (listed.body.items as { id: string; email: string }[]).find((u) => u.email === admin)?.id;
    const suspended = await call(`/api/v1/users/${adminId}/suspend`, {
      method: "POST",
      token: t.adminKey,
      body: { reason: "left the project" },
    });
    expect(suspended.status, JSON.stringify(suspended.body)).toBe(200);
    expect(await recipientsOf(t.id)).toEqual([owner]);
  });

  it("mails nobody when no owner or admin has a verified email", async () => {
    const t = await newTenant("whmail");
    await userWith(t, "admin", false);
    const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(await recipientsOf(t.id)).toEqual([]);
    const lines = warned.mock.calls.map((args) => String(args[0]));
    expect(lines.find((l) => l.includes("no verified owner or admin"))).toContain(`"tenant_id":"${t.id}"`);
  });
});

// The platform's disabling (POST /api/v1/platform/tenants/{tenant_id}/webhooks/{id}/disable) told
// nobody: the endpoint just stopped, and its admins learnt of it only by looking.
describe("the mail when the platform disables an endpoint", () => {
  const REASON = "your receiver answered 2000 requests a second with 500; write to ops@example.com";

  it("tells the verified owners and admins the platform's reason and that only its operators enable it", async () => {
    const t = await newTenant("whmail-platform");
    const admin = await userWith(t, "admin", true);
    const unverified = await userWith(t, "owner", false);
    const created = await call("/api/v1/admin/webhooks", {
      token: t.adminKey,
      body: { url: "http://127.0.0.1:9/hook", events: ["blog.post.*"] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const off = await call(`/api/v1/platform/tenants/${t.id}/webhooks/${id}/disable`, {
      token: rootKey(),
      body: { reason: REASON },
    });
    expect(off.status, JSON.stringify(off.body)).toBe(200);

    const mail = await mailTo(t.slug, admin, `Webhook endpoint ${id} was disabled`);
    expect(mail.body).toContain("127.0.0.1");
    expect(mail.body).toContain(REASON);
    expect(mail.body).toContain("Only the platform's operators can enable it again");
    // Not the tenant's own way back, which the platform's disabling refuses (409).
    expect(mail.body).not.toContain('{"enabled": true}');
    await mailSettled(t.slug);
    expect(await mailsTo(t.slug, unverified, 0, "Webhook endpoint")).toEqual([]);
  });

  it("says so when the platform gave no reason; a retried event queues the same mail ids", async () => {
    const t = await newTenant("whmail-platform");
    const owner = await userWith(t, "owner", true);
    const off = updatedEvent(
      t.id,
      { kind: "platform", id: "platform" },
      {
        enabled: false,
        disabled_reason: "platform",
        disabled_note: null,
      },
    );
    const mails = await mailsOf(t.id, [off, off]);
    expect(mails.map((m) => m.to)).toEqual([owner, owner]);
    expect(mails[0]?.id).toBe(mails[1]?.id);
    expect(mails[0]?.text).toContain("the platform's operators disabled it");
    expect(mails[0]?.text).toContain("They gave no reason");
    expect(mails[0]?.text).toContain("Only the platform's operators can enable it again");
  });

  it("mails nothing for other changes: the platform enabling it, the tenant editing an endpoint the platform holds", async () => {
    const t = await newTenant("whmail-platform");
    await userWith(t, "admin", true);
    const platform = { kind: "platform" as const, id: "platform" };
    const enabled = updatedEvent(t.id, platform, { enabled: true, disabled_reason: null, disabled_note: null });
    const held = { enabled: false, disabled_reason: "platform", disabled_note: REASON };
    const edited = updatedEvent(t.id, { kind: "api_key", id: "key-1" }, held);
    const byAdmin = updatedEvent(
      t.id,
      { kind: "user", id: "u-1" },
      { ...held, disabled_reason: null, disabled_note: null },
    );
    expect(await mailsOf(t.id, [enabled, edited, byAdmin])).toEqual([]);
  });
});
