import { drizzle } from "drizzle-orm/d1";
import { devMailbox } from "../db/schema";
import type { MailTransport } from "./transport";

/** Whether the development mailbox exists in this environment. */
export const mailboxEnabled = (environment: string) => environment === "development" || environment === "test";

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.localhost)$/;

/**
 * Whether `GET /api/v1/dev/mailbox` answers this request. The mailbox holds
 * verification and reset tokens, so in `development` it answers only requests
 * addressed to a loopback host (`wrangler dev`): a Worker deployed without
 * `--env` (whose top-level ENVIRONMENT is development) does not hand out
 * password-reset links to the internet. The test pool's environment serves any host.
 *
 * @example
 * mailboxServes("development", new URL("http://127.0.0.1:8787/api/v1/dev/mailbox")); // true
 * mailboxServes("development", new URL("https://plinth.example.workers.dev/api/v1/dev/mailbox")); // false
 */
export function mailboxServes(environment: string, url: URL): boolean {
  if (environment === "test") return true;
  return environment === "development" && LOOPBACK.test(url.hostname);
}

/**
 * Development and tests: mail is stored in D1 `dev_mailbox`, readable at
 * GET /api/v1/dev/mailbox. The row's id is the mail's, so a message the queue
 * delivers twice is stored once; its time is when the mail was queued, so the
 * mailbox lists mail in the order requests caused it (the queue delivers in
 * any order). It keeps the tokens in the clear, which is why it exists only
 * where {@link mailboxEnabled} says so.
 */
export const devMailboxTransport = (db: D1Database): MailTransport => ({
  name: "dev_mailbox",
  async deliver(mail) {
    await drizzle(db)
      .insert(devMailbox)
      .values({
        id: mail.id,
        tenantId: mail.tenantId,
        to: mail.to,
        subject: mail.subject,
        body: mail.text,
        html: mail.html,
        createdAt: mail.queuedAt,
      })
      .onConflictDoNothing();
  },
});
