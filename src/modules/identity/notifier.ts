import { drizzle } from "drizzle-orm/d1";
import type { Context } from "hono";
import type { Clock } from "../../kernel/clock";
import { newId } from "../../kernel/crypto";
import type { AppEnv } from "../../kernel/env";
import type { Logger } from "../../kernel/log";
import { devMailbox } from "./read-model";

/** An outgoing message to a user. */
export interface Mail {
  tenantId: string;
  to: string;
  subject: string;
  body: string;
}

/** The port through which identity sends mail; a product team plugs in its provider here. */
export interface Notifier {
  send(mail: Mail): Promise<void>;
}

/** Development and test: messages go to D1 `dev_mailbox`, readable at GET /api/v1/dev/mailbox. */
export const devMailboxNotifier = (db: D1Database, clock: Clock): Notifier => ({
  async send(mail) {
    const now = clock.now();
    await drizzle(db)
      .insert(devMailbox)
      .values({ id: newId(now.getTime()), ...mail, createdAt: now.toISOString() });
  },
});

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
 * The notifier of the request's environment. Staging and production have no
 * mail transport until one is configured here: the message is not sent, and
 * an error is logged (without the body, which holds a secret link).
 */
export function notifierOf(c: Context<AppEnv>): Notifier {
  return environmentNotifier(c.env, c.get("config").environment, c.get("clock"), c.get("log"));
}

/** {@link notifierOf} off the request path (a queue subscriber, a job). */
export function environmentNotifier(env: Env, environment: string, clock: Clock, log: Pick<Logger, "error">): Notifier {
  if (mailboxEnabled(environment)) return devMailboxNotifier(env.DB, clock);
  return {
    async send(mail) {
      log.error("no mail transport configured; message not sent", { tenant_id: mail.tenantId, subject: mail.subject });
    },
  };
}
