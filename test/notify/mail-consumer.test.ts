import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mailDeadLetters } from "../../src/kernel/db/schema";
import { GIVE_UP_AFTER } from "../../src/kernel/notify/consumer";
import { devMailboxTransport } from "../../src/kernel/notify/mailbox";
import { contentOf, UnreadableMail } from "../../src/kernel/notify/message";
import { MailNotSent, MailRejected } from "../../src/kernel/notify/transport";
import { backoffCeiling } from "../../src/kernel/resilience";
import { consume, messagesOf, recordingTransport, sampleMail, testConfig } from "./helpers";

const KEYS = () => testConfig().encryptionKeys;

/** Everything written to the console while `fn` runs. */
async function consoleOf(fn: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
  }
  await fn();
  vi.restoreAllMocks();
  return lines.join("\n");
}

afterEach(() => vi.restoreAllMocks());

describe("what the mail queue holds", () => {
  it("a queued mail is sealed: no recipient, subject, part or token in the clear, and it opens to what was sent", async () => {
    const mail = sampleMail("sealed@example.com");
    const [message] = await messagesOf([mail]);
    if (!message) throw new Error("nothing queued");
    const json = JSON.stringify(message);
    expect(json).not.toContain("sealed@example.com");
    expect(json).not.toContain("plv_");
    expect(json).not.toContain("Verify your email");
    expect(message).toMatchObject({ v: 1, tenant_id: "t-mail", kind: "identity.verify-email" });
    expect(await contentOf(message, KEYS())).toEqual({
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    });
  });

  it("sealed content moved to another mail or tenant, or altered, does not open", async () => {
    const [message] = await messagesOf([sampleMail("moved@example.com")]);
    if (!message || !("sealed" in message.content)) throw new Error("not sealed");
    await expect(contentOf({ ...message, id: "another-id" }, KEYS())).rejects.toBeInstanceOf(UnreadableMail);
    await expect(contentOf({ ...message, tenant_id: "t-other" }, KEYS())).rejects.toBeInstanceOf(UnreadableMail);
    const altered = `${message.content.sealed.slice(0, -2)}AA`;
    await expect(contentOf({ ...message, content: { sealed: altered } }, KEYS())).rejects.toBeInstanceOf(
      UnreadableMail,
    );
    await expect(contentOf(message, undefined)).rejects.toBeInstanceOf(UnreadableMail);
  });

  it("without ENCRYPTION_KEYS (development without them) the content travels plain", async () => {
    const [message] = await messagesOf([sampleMail("plain@example.com")], { sealed: false });
    expect(message?.content).toMatchObject({ plain: { to: "plain@example.com" } });
  });

  it("a caller's id is kept (a retried subscriber queues the same mail), and a bad one is refused at once", async () => {
    const [message] = await messagesOf([sampleMail("same@example.com", "t-mail", "fixed.id-1")]);
    expect(message?.id).toBe("fixed.id-1");
    await expect(messagesOf([sampleMail("bad@example.com", "t-mail", "no spaces please")])).rejects.toThrow();
  });
});

describe("the mail consumer", () => {
  it("opens each message, hands it to the transport with its id, and acks it", async () => {
    const mails = [sampleMail("one@example.com"), sampleMail("two@example.com")];
    const messages = await messagesOf(mails);
    const { calls, transport } = recordingTransport();
    const { result, ids } = await consume(messages, { transport: () => transport });
    expect(calls.map((c) => c.to)).toEqual(["one@example.com", "two@example.com"]);
    expect(calls[0]).toEqual({
      id: messages[0]?.id,
      tenantId: "t-mail",
      kind: "identity.verify-email",
      queuedAt: "2026-07-01T08:00:00.000Z",
      to: "one@example.com",
      subject: mails[0]?.subject,
      text: mails[0]?.text,
      html: mails[0]?.html,
    });
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(result.retryMessages).toEqual([]);
  });

  it("retries a failed send with the kit's full-jitter backoff (MAIL_RETRY_*), never drops it", async () => {
    const messages = await messagesOf([sampleMail("down@example.com")]);
    const { transport } = recordingTransport(() => new MailNotSent("the mail provider answered HTTP 503"));
    vi.spyOn(console, "error").mockImplementation(() => {});
    const ceiling = (n: number) => Math.ceil(backoffCeiling(n, testConfig().mail.retry) / 1000);
    for (const attempts of [1, 4, 30]) {
      const { result, retries, ids } = await consume(messages, {
        transport: () => transport,
        attempts,
        random: () => 0.999_999,
      });
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages).toEqual([{ msgId: ids[0] }]);
      expect(retries).toEqual([{ id: ids[0], delaySeconds: ceiling(attempts) }]);
    }
    expect(ceiling(1)).toBe(30);
    expect(ceiling(30)).toBe(3600);
    // Full jitter: the wait is drawn from [0, ceiling].
    const low = await consume(messages, { transport: () => transport, attempts: 4, random: () => 0 });
    expect(low.retries[0]?.delaySeconds).toBe(0);
  });

  it(`after ${GIVE_UP_AFTER} failed sends in a row, retries the rest of the batch without calling the provider`, async () => {
    const messages = await messagesOf(["a", "b", "c", "d", "e"].map((n) => sampleMail(`${n}@example.com`)));
    const { calls, transport } = recordingTransport(() => new MailNotSent("the mail provider answered HTTP 500"));
    const logs = await consoleOf(async () => {
      const { result, retries } = await consume(messages, { transport: () => transport });
      expect(result.retryMessages).toHaveLength(5);
      expect(retries).toHaveLength(5);
    });
    expect(logs).toContain('"skipped":2');
    expect(calls).toHaveLength(GIVE_UP_AFTER);
    // A success resets the count: one failure between successes does not stop the batch.
    vi.spyOn(console, "error").mockImplementation(() => {});
    const flaky = recordingTransport((_mail, call) => (call === 2 ? new MailNotSent("once") : undefined));
    const mixed = await consume(messages, { transport: () => flaky.transport });
    expect(flaky.calls).toHaveLength(5);
    expect(mixed.result.explicitAcks).toHaveLength(4);
    expect(mixed.result.retryMessages).toHaveLength(1);
  });

  it("stores what no retry can send as a dead letter at once: not a mail, unreadable, refused by the provider", async () => {
    const [refused, unreadable] = await messagesOf([
      sampleMail("refused@example.com", "t-dead"),
      sampleMail("unreadable@example.com", "t-dead"),
    ]);
    if (!refused || !unreadable) throw new Error("nothing queued");
    const { transport } = recordingTransport((mail) =>
      mail.to === "refused@example.com" ? new MailRejected("the mail provider refused the mail (HTTP 422)") : undefined,
    );
    const logs = await consoleOf(async () => {
      const { result, ids } = await consume(
        [{ hello: "world", tenant_id: "t-dead" }, refused, { ...unreadable, id: "swapped" }],
        { transport: () => transport },
      );
      expect(result.explicitAcks.sort()).toEqual([...ids].sort());
      expect(result.retryMessages).toEqual([]);
    });
    const rows = await drizzle(env.DB).select().from(mailDeadLetters).all();
    const mine = rows.filter((r) => r.tenantId === "t-dead");
    expect(mine.map((r) => r.reason).sort()).toEqual([
      "not a mail message",
      "the mail provider refused the mail (HTTP 422)",
      "the sealed content does not open (its key version left ENCRYPTION_KEYS, or it was altered)",
    ]);
    // The row keeps the message as it was: sealed.
    expect(mine.map((r) => r.body).join()).not.toContain("refused@example.com");
    expect(logs).toContain("mail dead-lettered");
    for (const secret of ["refused@example.com", "unreadable@example.com", "plv_", "Verify your email"]) {
      expect(logs).not.toContain(secret);
    }
  });

  it("logs no recipient, subject or body when sends fail and are retried", async () => {
    const messages = await messagesOf([sampleMail("quiet@example.com")]);
    const { transport } = recordingTransport(() => new MailNotSent("the mail provider answered HTTP 500"));
    const logs = await consoleOf(() => consume(messages, { transport: () => transport }));
    expect(logs).toContain("mail not sent; will retry");
    expect(logs).toContain(messages[0]?.id);
    for (const secret of ["quiet@example.com", "plv_", "Verify your email", "Mail Test Co"]) {
      expect(logs).not.toContain(secret);
    }
  });

  it("logs no recipient, subject or body when the dev mailbox cannot store a mail, only why", async () => {
    // drizzle wraps a driver's error as "Failed query: <sql>\nparams: <every value bound>": here the
    // mail's address, subject and both parts.
    const messages = await messagesOf([sampleMail("stored-nowhere@example.com")]);
    const refused = async () => {
      throw new Error("D1_ERROR: no such table: dev_mailbox: SQLITE_ERROR");
    };
    const statement = { bind: () => statement, run: refused, all: refused, raw: refused, first: refused };
    const db = { prepare: () => statement } as unknown as D1Database;
    const logs = await consoleOf(() => consume(messages, { transport: () => devMailboxTransport(db) }));
    expect(logs).toContain("mail not sent; will retry");
    expect(logs).toContain("no such table: dev_mailbox");
    expect(logs).toContain("insert into");
    for (const secret of ["stored-nowhere@example.com", "Verify your email", "Mail Test Co", "plv_"]) {
      expect(logs).not.toContain(secret);
    }
  });

  it("in staging or production without a provider, fails loudly and retries rather than dropping mail", async () => {
    const messages = await messagesOf([sampleMail("nowhere@example.com")]);
    const production = { ...env, ENVIRONMENT: "production" } as Env;
    const logs = await consoleOf(async () => {
      const { result, ids } = await consume(messages, { env: production });
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryMessages).toEqual([{ msgId: ids[0] }]);
    });
    expect(logs).toContain("no mail provider is configured: set MAIL_API_URL, MAIL_API_KEY and MAIL_FROM");
  });
});
