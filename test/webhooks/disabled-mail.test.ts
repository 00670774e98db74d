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
import { call, mailTo, newTenant, register, tokenIn } from "../identity/helpers";

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

/** Whom the subscriber mails for one disabled endpoint of tenant `tenantId`. */
async function recipientsOf(tenantId: string): Promise<string[]> {
  const { queue, sent } = capturingQueue();
  const runtime = { ...testRuntime(), log: createLogger("warn") };
  await deliver(notifyDisabled, [disabledEvent(tenantId)], { ...runtime, env: { ...env, MAIL: queue } });
  const to: string[] = [];
  for (const body of sent) to.push((await contentOf(MailMessageSchema.parse(body), runtime.config.encryptionKeys)).to);
  return to.sort();
}

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

  it("mails nobody when no owner or admin has a verified email", async () => {
    const t = await newTenant("whmail");
    await userWith(t, "admin", false);
    const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(await recipientsOf(t.id)).toEqual([]);
    const lines = warned.mock.calls.map((args) => String(args[0]));
    expect(lines.find((l) => l.includes("no verified owner or admin"))).toContain(`"tenant_id":"${t.id}"`);
  });
});
