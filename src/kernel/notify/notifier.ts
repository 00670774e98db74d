import type { Context } from "hono";
import type { Clock } from "../clock";
import { type Config, type ConfigIssue, loadConfig } from "../config";
import { newId } from "../crypto";
import type { AppEnv } from "../env";
import { ConfigError } from "../errors/config-error";
import type { EnvNeeds } from "../modules/types";
import { type EnqueueRetry, enqueueMail } from "./enqueue";
import { MailMessageSchema, mailEnvelope, toMessage } from "./message";
import type { MailContent } from "./template";
import { keepUnqueued } from "./unqueued";

/** A mail a module asks to send: rendered content (see template.ts) and its envelope. */
export interface Mail extends MailContent {
  tenantId: string;
  to: string;
  /**
   * What it is, `<module>.<what>` (e.g. `identity.verify-email`): in logs,
   * metrics and the operator's dead-letter view, where the content is not.
   */
  kind: string;
  /**
   * A stable id for a mail the caller may ask for twice (a retried
   * subscriber): the same id is delivered once to the dev mailbox and sent
   * with the same idempotency key to the provider. Default: a fresh id.
   * 1-128 of `A-Za-z0-9._:-`.
   */
  id?: string;
}

/**
 * The port through which modules send mail. `send` puts the mail on the MAIL
 * queue and returns: no request waits on a mail provider, and a provider that
 * is down loses nothing (the consumer retries, then dead-letters). The
 * consumer sends it with the configured transport (mail/consumer.ts).
 */
export interface Notifier {
  send(mail: Mail): Promise<void>;
}

/**
 * The notifier over a queue producer. The content is sealed with
 * ENCRYPTION_KEYS when they are configured (message.ts); the queue then holds
 * no token in the clear while the mail waits to be sent. With `retrying` (the
 * request path, {@link notifierOf}) a send the queue fails for a moment is tried
 * again under MAIL_ENQUEUE_RETRY, and one still not queued is logged and counted
 * (enqueue.ts); without it the send is tried once and its failure thrown.
 *
 * @example
 * await queueNotifier(env.MAIL, config, clock).send({ tenantId, to, kind: "identity.verify-email", ...verificationMail(…) });
 */
export function queueNotifier(
  queue: Queue,
  config: Pick<Config, "encryptionKeys">,
  clock: Clock,
  retrying?: EnqueueRetry,
): Notifier {
  return {
    async send(mail) {
      const now = clock.now();
      const envelope = config.encryptionKeys ? mailEnvelope(config.encryptionKeys) : undefined;
      const message = await toMessage(
        { ...mail, id: mail.id ?? newId(now.getTime()), createdAt: now.toISOString() },
        envelope,
      );
      // A bad id or kind is the caller's bug: refused here, before the queue, never retried nor dead-lettered.
      await enqueueMail(queue, MailMessageSchema.parse(message), clock, retrying);
    },
  };
}

/**
 * The request's notifier: the MAIL queue, with the request's config and clock, its send
 * retried a few times (enqueue.ts), and a mail still not queued kept as a mail dead letter
 * (unqueued.ts): a route queues its mail after the directory committed the token, often after
 * the response, so a send lost to a queue failure would be a mail nobody receives.
 */
export function notifierOf(c: Context<AppEnv>): Notifier {
  const config = c.get("config");
  const clock = c.get("clock");
  return {
    send: (mail) =>
      queueNotifier(c.env.MAIL, config, clock, {
        sleeper: c.get("sleeper"),
        log: c.get("log"),
        keep: keepUnqueued(c.env.DB, config, clock, mail),
      }).send(mail),
  };
}

/**
 * {@link notifierOf} off the request path: a queue subscriber, a job (`runtimeNotifier(runtime)`).
 * Tried once: a subscriber that throws is retried with its message by the queue (pass a stable
 * mail `id`), so retrying here too would only multiply the attempts.
 */
export function runtimeNotifier(runtime: { env: Env; config: Pick<Config, "encryptionKeys">; clock: Clock }): Notifier {
  return queueNotifier(runtime.env.MAIL, runtime.config, runtime.clock);
}

/**
 * The configuration a Durable Object's mail needs does not parse: what to fix is a variable,
 * named (never its value). An actor's supervision logs it without a stack and retries the timer.
 */
export class MailConfigInvalid extends ConfigError {
  readonly variable: string;
  readonly detail: string;
  constructor(issues: readonly ConfigIssue[]) {
    const names = [...new Set(issues.map((i) => i.variable))].join(", ");
    super(`the configuration is invalid (${names}): mail cannot be queued`);
    this.name = "MailConfigInvalid";
    this.variable = names;
    this.detail = `the configuration is invalid: ${names}`;
  }
}

/**
 * {@link notifierOf} inside a Durable Object (an actor's timer or message), where no request,
 * subscriber or job hands one over: the object's `env` (its MAIL queue, its ENCRYPTION_KEYS,
 * parsed once per isolate with the platform's `needs`, so a deployment the request path refuses,
 * a `RATE_LIMITS` naming a policy no module declares among it, sends no mail either) and the clock
 * its class is built over (the class is built over the platform: `Pick<PlatformParts, "clock" |
 * "needs">`). Throws {@link MailConfigInvalid} when the env does not parse, so the timer is
 * retried once an operator fixes it. The send is tried once: a timer whose handler throws is
 * retried by the actor's supervision, which a retry loop here would only hold up (pass a stable
 * mail `id`).
 *
 * @example
 * protected override async onTimer(m: Timer) {
 *   await objectNotifier(this.env, this.clock, platform.needs).send({ id: `reminder.${m.id}`, tenantId, to, kind: "reminders.due", ...reminderMail(…) });
 * }
 */
export function objectNotifier(env: Env, clock: Clock, needs: EnvNeeds): Notifier {
  return {
    async send(mail) {
      const loaded = loadConfig(env, needs);
      if (!loaded.ok) throw new MailConfigInvalid(loaded.issues);
      await queueNotifier(env.MAIL, loaded.config, clock).send(mail);
    },
  };
}
