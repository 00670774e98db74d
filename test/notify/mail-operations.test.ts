import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/kernel/config";
import { modules } from "../../src/modules";
import { testApp } from "../helpers";
import { call, mailSettled, mailsTo, newTenant, rootKey } from "../identity/helpers";
import { consume, messagesOf, sampleMail } from "./helpers";

type Json = Record<string, unknown>;
const root = () => ({ token: rootKey() });

describe("the dev mailbox through the queue", () => {
  it("a mail delivered twice by the queue is stored once", async () => {
    const t = await newTenant("mbx");
    const messages = await messagesOf([sampleMail("twice@example.com", t.id)]);
    await consume(messages);
    await consume(messages);
    // Read after a marker mail through the queue: a second mail queued by either delivery would
    // otherwise arrive a batch after the first was found.
    await mailSettled(t.slug);
    const items = await mailsTo(t.slug, "twice@example.com");
    expect(items).toHaveLength(1);
    expect(items[0]?.subject).toBe("Verify your email address for Mail Test Co");
    expect(items[0]?.body).toContain("plv_twiceexamplecomsecret0123456789");
    expect(items[0]?.html).toContain("<code");
  });

  it("registration mails the tenant's name in the text and HTML parts", async () => {
    const t = await newTenant("named");
    const res = await call("/api/v1/auth/register", {
      tenant: t.slug,
      body: { email: "named@example.com", password: "correct horse battery staple", name: "N" },
    });
    expect(res.status).toBe(201);
    const [mail] = await mailsTo(t.slug, "named@example.com");
    expect(mail?.subject).toBe(`Verify your email address for Tenant ${t.slug}`);
    expect(mail?.body).toMatch(/Your verification token: plv_\S+/);
    expect(mail?.html).toContain(`Tenant ${t.slug}`);
  });
});

describe("mail dead letters, for the platform operator", () => {
  it("a message whose retries ran out is stored, listed without its content, and replayed with its mail id", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    const t = await newTenant("dlq");
    const [message] = await messagesOf([sampleMail("late@example.com", t.id)]);
    const { result } = await consume([message], { queue: "plinth-mail-dlq", attempts: 31 });
    expect(result.explicitAcks).toHaveLength(1);

    const list = await call(`/api/v1/platform/mail/dead-letters?tenant_id=${t.id}`, root());
    expect(list.status).toBe(200);
    const items = list.body.items as Json[];
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      queue: "plinth-mail-dlq",
      mail_id: message?.id,
      tenant_id: t.id,
      kind: "identity.verify-email",
      reason: "retries exhausted",
      attempts: 31,
      replayed_at: null,
    });
    expect(JSON.stringify(list.body)).not.toContain("late@example.com");

    const replay = await call(`/api/v1/platform/mail/dead-letters/${items[0]?.id}/replay`, {
      ...root(),
      method: "POST",
    });
    expect(replay.status).toBe(202);
    // The Worker's own consumer sends it now: in tests, to the dev mailbox, under its original id.
    const [mail] = await mailsTo(t.slug, "late@example.com");
    expect(mail).toMatchObject({ id: message?.id, subject: "Verify your email address for Mail Test Co" });
    const after = await call(`/api/v1/platform/mail/dead-letters?tenant_id=${t.id}&pending=true`, root());
    expect(after.body.items).toEqual([]);
  });

  it("replays every pending dead letter in pages after an outage", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "error").mockImplementation(() => {});
    const t = await newTenant("dlqs");
    const messages = await messagesOf(["p1", "p2", "p3"].map((n) => sampleMail(`${n}@example.com`, t.id)));
    await consume(messages, { queue: "plinth-mail-dlq", attempts: 31 });
    const first = await call("/api/v1/platform/mail/replay-dead-letters", {
      ...root(),
      body: { limit: 2, tenant_id: t.id },
    });
    expect(first.body).toEqual({ replayed: 2, more: true });
    const second = await call("/api/v1/platform/mail/replay-dead-letters", { ...root(), body: { tenant_id: t.id } });
    expect(second.body).toEqual({ replayed: 1, more: false });
    // Each arrives, and is still the only one after a marker mail queued behind them: a letter
    // replayed twice would otherwise pass, its second copy a batch behind the first.
    for (const n of ["p1", "p2", "p3"]) await mailsTo(t.slug, `${n}@example.com`);
    await mailSettled(t.slug);
    for (const n of ["p1", "p2", "p3"]) expect(await mailsTo(t.slug, `${n}@example.com`)).toHaveLength(1);
  });

  it("is the platform's: a tenant admin key gets 403, an unknown id 404", async () => {
    const t = await newTenant("dlqa");
    const asTenant = await call("/api/v1/platform/mail/dead-letters", { token: t.adminKey });
    expect(asTenant.status).toBe(403);
    const none = await call("/api/v1/platform/mail/dead-letters/nope/replay", { ...root(), method: "POST" });
    expect(none.status).toBe(404);
  });
});

describe("/readyz's mail check", () => {
  const readyz = async (overrides: Record<string, unknown>) => {
    const res = await testApp(modules, overrides).fetch("/readyz");
    const body = (await res.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
    return body.checks.mail;
  };

  it("passes in development and tests, where the dev mailbox takes the mail", async () => {
    expect(await readyz({})).toMatchObject({ ok: true });
  });

  it("in production says what is missing, naming variables only", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const none = await readyz({ ENVIRONMENT: "production", ENCRYPTION_KEYS: undefined });
    expect(none?.ok).toBe(false);
    expect(none?.error).toContain("no mail provider (set MAIL_API_URL, MAIL_API_KEY, MAIL_FROM)");
    expect(none?.error).toContain("ENCRYPTION_KEYS is unset");
    const ready = await readyz({
      ENVIRONMENT: "production",
      MAIL_API_URL: "https://mail.example.com/send",
      MAIL_API_KEY: "re_s3cretkey0123",
      MAIL_FROM: "Plinth <noreply@example.com>",
    });
    expect(ready).toMatchObject({ ok: true });
  });
});

describe("mail configuration", () => {
  const parsed = (vars: Record<string, unknown>) => parseConfig({ ...env, ...vars });

  it("takes the provider as three variables together, and the retry schedule in seconds", () => {
    const ok = parsed({
      MAIL_API_URL: "https://api.mail.example/v1/send",
      MAIL_API_KEY: "key_0123456789",
      MAIL_FROM: "noreply@example.com",
      MAIL_RETRY_BASE_S: "5",
      MAIL_RETRY_MAX_S: "600",
    });
    expect(ok.ok && ok.config.mail).toEqual({
      provider: { url: "https://api.mail.example/v1/send", key: "key_0123456789", from: "noreply@example.com" },
      retry: { baseMs: 5_000, maxMs: 600_000 },
    });
    const none = parsed({});
    expect(none.ok && none.config.mail).toEqual({ provider: undefined, retry: { baseMs: 30_000, maxMs: 3_600_000 } });
  });

  it("names every bad or missing variable, never a value", () => {
    const partial = parsed({ MAIL_API_URL: "https://api.mail.example/v1/send" });
    expect(partial.ok ? [] : partial.issues.map((i) => i.variable).sort()).toEqual(["MAIL_API_KEY", "MAIL_FROM"]);
    const bad = parsed({
      MAIL_API_URL: "http://mail.example/s3cret-path",
      MAIL_API_KEY: "has spaces s3cret",
      MAIL_FROM: "not an address s3cret",
      MAIL_RETRY_BASE_S: "-1",
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues.map((i) => i.variable).sort()).toEqual([
      "MAIL_API_KEY",
      "MAIL_API_URL",
      "MAIL_FROM",
      "MAIL_RETRY_BASE_S",
    ]);
    expect(JSON.stringify(bad.issues)).not.toContain("s3cret");
    const slow = parsed({ MAIL_RETRY_BASE_S: "600", MAIL_RETRY_MAX_S: "60" });
    expect(slow.ok ? [] : slow.issues.map((i) => i.variable)).toEqual(["MAIL_RETRY_MAX_S"]);
  });

  it("allows plain http only to a loopback host (a local receiver), and no credentials in the URL", () => {
    const local = { MAIL_API_KEY: "key_0123456789", MAIL_FROM: "Me <me@example.com>" };
    expect(parsed({ ...local, MAIL_API_URL: "http://127.0.0.1:8025/send" }).ok).toBe(true);
    expect(parsed({ ...local, MAIL_API_URL: "http://localhost:8025/send" }).ok).toBe(true);
    expect(parsed({ ...local, MAIL_API_URL: "https://user:pw@mail.example/send" }).ok).toBe(false);
  });
});
