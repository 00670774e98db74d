import type { Config } from "../config";
import type { MailProvider } from "../config/mail";
import { RetryableError, type Sleeper, withTimeout } from "../resilience";
import { devMailboxTransport, mailboxEnabled } from "./mailbox";

/** A mail as a transport sends it: its id (the idempotency key), tenant, kind, when it was queued, and opened content. */
export interface OutgoingMail {
  id: string;
  tenantId: string;
  kind: string;
  /** When the request queued it (RFC 3339): the order users caused their mail in, whatever order the queue delivers. */
  queuedAt: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Sends one mail. Resolves once the mail is accepted; throws
 * {@link MailRejected} when no retry can help, anything else to be retried.
 */
export interface MailTransport {
  /** For logs: `dev_mailbox`, `http`, `none`. */
  readonly name: string;
  deliver(mail: OutgoingMail): Promise<void>;
}

/** The provider refused this mail for what it is (400, 413, 422): retrying sends the same refusal. */
export class MailRejected extends Error {
  override name = "MailRejected";
}

/** The mail was not sent this time (an outage, a timeout, 429, 5xx, a wrong key): retried with backoff. */
export class MailNotSent extends RetryableError {
  override name = "MailNotSent";
}

/** How long one provider call may take before it counts as failed (and is retried). */
export const SEND_TIMEOUT_MS = 10_000;

const PERMANENT = new Set([400, 413, 422]);

/**
 * An HTTP email API: `POST <url>` with `Authorization: Bearer <key>`,
 * `Idempotency-Key: <mail id>` and the JSON `{ from, to, subject, text, html }`.
 * Any 2xx is sent. The URL is operator config, not tenant input, so it is
 * fetched directly, not through the SSRF guard of kernel/outbound (which would
 * refuse a provider on a private network or a test receiver on 127.0.0.1);
 * config insists on https except to loopback, and redirects are not followed
 * (a redirect would carry the key elsewhere). Error messages hold the status,
 * never the mail or the provider's reply.
 *
 * @example
 * const transport = httpMailTransport(config.mail.provider, realSleeper);
 */
export function httpMailTransport(
  provider: MailProvider,
  sleeper: Sleeper,
  fetcher: typeof fetch = (input, init) => fetch(input, init),
  timeoutMs = SEND_TIMEOUT_MS,
): MailTransport {
  return {
    name: "http",
    async deliver(mail) {
      const body = JSON.stringify({
        from: provider.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      });
      const status = await withTimeout(
        async (signal) => {
          let res: Response;
          try {
            res = await fetcher(provider.url, {
              method: "POST",
              headers: {
                authorization: `Bearer ${provider.key}`,
                "content-type": "application/json",
                "idempotency-key": mail.id,
                "user-agent": "plinth-mail",
              },
              body,
              redirect: "manual",
              signal,
            });
          } catch (error) {
            if (signal.aborted) throw error;
            throw new MailNotSent(
              `the mail provider could not be reached (${error instanceof Error ? error.name : "error"})`,
            );
          }
          await res.body?.cancel();
          return res.status;
        },
        timeoutMs,
        sleeper,
      );
      if (status >= 200 && status < 300) return;
      if (PERMANENT.has(status)) throw new MailRejected(`the mail provider refused the mail (HTTP ${status})`);
      throw new MailNotSent(`the mail provider answered HTTP ${status}`);
    },
  };
}

/**
 * Staging or production without MAIL_API_*: nothing is dropped. Every
 * delivery fails loudly, so the message is retried and then dead-lettered,
 * where the operator replays it once a provider is configured.
 */
export const unconfiguredTransport: MailTransport = {
  name: "none",
  async deliver() {
    throw new MailNotSent("no mail provider is configured: set MAIL_API_URL, MAIL_API_KEY and MAIL_FROM");
  },
};

/**
 * The transport of this deployment: the HTTP provider when MAIL_API_URL is
 * set (in any environment), else the dev mailbox in development and tests,
 * else {@link unconfiguredTransport}.
 */
export function transportFor(env: Env, config: Pick<Config, "environment" | "mail">, sleeper: Sleeper): MailTransport {
  if (config.mail.provider) return httpMailTransport(config.mail.provider, sleeper);
  if (mailboxEnabled(config.environment)) return devMailboxTransport(env.DB);
  return unconfiguredTransport;
}
