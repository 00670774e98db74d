// Retiring an ENCRYPTION_KEYS version with mail dead letters sealed under it (docs/operations.md,
// "Rotating keys"): the letters wait in D1 for the operator's replay, their content sealed under
// the version they were queued with, so `crypto versions` must count them and `crypto reencrypt`
// re-seal them, or the report calls v1 removable while a letter still needs it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { manualClock } from "../../src/kernel/clock";
import { base64UrlEncode } from "../../src/kernel/crypto";
import { mailDeadLetterStore } from "../../src/kernel/notify/dead-letters";
import { contentOf, MailMessageSchema, mailEnvelope, toMessage } from "../../src/kernel/notify/message";
import { testRuntime } from "../helpers";
import { keyedPlatform, tenantOn } from "./keyed-platform";

const clock = manualClock("2045-06-01T00:00:00.000Z");
const V1 = JSON.parse(String(testRuntime().config.encryptionKeys)) as { version: number; key: string }[];
const v2 = { version: 2, key: base64UrlEncode(crypto.getRandomValues(new Uint8Array(32))) };
const KEYS = { v1: JSON.stringify(V1), rotated: JSON.stringify([v2, ...V1]), v2only: JSON.stringify([v2]) };
const root = String(env.PLATFORM_ROOT_KEY);

/** Stores a mail of `tenantId` sealed under `keys` as the dead-letter consumer does; its mail id. */
async function letterUnder(keys: string, tenantId: string, to: string): Promise<string> {
  const id = `rot-mail-${crypto.randomUUID()}`;
  const body = await toMessage(
    {
      id,
      tenantId,
      kind: "identity.verify-email",
      createdAt: clock.now().toISOString(),
      to,
      subject: "Verify",
      text: "token abc",
      html: "<p>token abc</p>",
    },
    mailEnvelope(keys),
  );
  const message = { id: `msg-${id}`, attempts: 31, body } as unknown as Message<unknown>;
  expect(await mailDeadLetterStore(env.DB).store("plinth-mail-dlq", message, "retries exhausted", clock.now())).toBe(
    "stored",
  );
  return id;
}

const storedBody = async (mailId: string) => {
  const row = await env.DB.prepare("select body from mail_dead_letters where mail_id = ?")
    .bind(mailId)
    .first<{ body: string }>();
  return MailMessageSchema.parse(JSON.parse(String(row?.body)));
};

describe("mail dead letters sealed under a version being retired", () => {
  it("are counted by crypto versions and re-sealed by crypto reencrypt, after which they open without v1", async () => {
    const underV1 = keyedPlatform(KEYS.v1, clock);
    const t = await tenantOn(underV1, clock, "rot-mail");
    const mailId = await letterUnder(KEYS.v1, t.id, "ada@example.com");
    const before = await storedBody(mailId);

    const rotated = keyedPlatform(KEYS.rotated, clock);
    const versions = async () => {
      const res = await rotated(`/api/v1/platform/crypto/versions?tenant_id=${t.id}`, { token: root });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.counts as Record<string, unknown>;
    };
    // Before the fix the report had no mail at all: every count at 0 for v1, "it can be removed".
    expect((await versions())["mail.dead_letter"]).toEqual({ "1": 1, "2": 0 });

    const run = await rotated("/api/v1/platform/crypto/reencrypt", {
      token: root,
      body: { tenant_id: t.id },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.tenants).toEqual([{ tenant_id: t.id, resealed: 1, raced: 0, error: null }]);
    expect((await versions())["mail.dead_letter"]).toEqual({ "1": 0, "2": 1 });

    // Only the sealed content changed; with v1 gone the letter still opens to the same mail.
    const after = await storedBody(mailId);
    expect({ ...after, content: null }).toEqual({ ...before, content: null });
    expect(await contentOf(after, KEYS.v2only)).toMatchObject({ to: "ada@example.com", text: "token abc" });
    await expect(contentOf(before, KEYS.v2only)).rejects.toThrow(/does not open/);

    // A second run finds nothing stale.
    const again = await rotated("/api/v1/platform/crypto/reencrypt", {
      token: root,
      body: { tenant_id: t.id },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expect(again.body.tenants).toEqual([{ tenant_id: t.id, resealed: 0, raced: 0, error: null }]);
  });

  it("a letter under a version removed too early is counted under it and fails its tenant's pass by name, until it is back", async () => {
    const underV1 = keyedPlatform(KEYS.v1, clock);
    const t = await tenantOn(underV1, clock, "rot-mail-early");
    const mailId = await letterUnder(KEYS.v1, t.id, "bea@example.com");

    const v2only = keyedPlatform(KEYS.v2only, clock);
    const counted = await v2only(`/api/v1/platform/crypto/versions?tenant_id=${t.id}`, { token: root });
    expect(counted.body.configured_versions).toEqual([2]);
    expect((counted.body.counts as Record<string, unknown>)["mail.dead_letter"]).toEqual({ "1": 1, "2": 0 });
    const failed = await v2only("/api/v1/platform/crypto/reencrypt", {
      token: root,
      body: { tenant_id: t.id },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expect(failed.body.tenants).toEqual([
      { tenant_id: t.id, resealed: 0, raced: 0, error: expect.stringContaining("no master key of version 1") },
    ]);

    // v1 put back (after v2): the run re-seals it, and it opens without v1 again.
    const back = keyedPlatform(KEYS.rotated, clock);
    const run = await back("/api/v1/platform/crypto/reencrypt", {
      token: root,
      body: { tenant_id: t.id },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expect(run.body.tenants).toEqual([{ tenant_id: t.id, resealed: 1, raced: 0, error: null }]);
    expect(await contentOf(await storedBody(mailId), KEYS.v2only)).toMatchObject({ to: "bea@example.com" });
  });
});
