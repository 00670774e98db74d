import { deletedTenants, tenantRegistry } from "../auth/tenant-registry";
import type { Config } from "../config";
import { errorFields, type Logger } from "../log";
import { METRICS } from "../metrics/catalog";
import { flushedAfter } from "../metrics/flush";
import type { MetricsRecorder } from "../metrics/recorder";
import type { PlatformParts } from "../modules/types";
import { batchConfig } from "../queues/batch-config";
import { countDeadLetter } from "../queues/dead-letter-count";
import { stringField } from "../queues/message-fields";
import { backoffDelay, realSleeper, type Sleeper } from "../resilience";
import { mailDeadLetterStore } from "./dead-letters";
import { droppedFields, type OpenedMail, openHeld } from "./held-recipients";
import { contentOf, MailMessageSchema, UnreadableMail } from "./message";
import { recipientDigest } from "./recipient-digest";
import {
  lastDeadLetterDelivery,
  retryUnconfigured,
  sendBack,
  sendBackUnconfigured,
  type Unconfigured,
} from "./send-back";
import { MailRejected, type MailTransport, transportFor } from "./transport";

/** Whether a queue is a mail queue (`…-mail`), told by name: the queue() entry routes on it. */
export const isMailQueue = (queue: string) => /-mail(-dlq)?$/.test(queue);

/** After this many failed sends in a row, the rest of the batch is retried without calling the provider. */
export const GIVE_UP_AFTER = 3;

/**
 * The recipient digest of a message about to become a dead letter (recipient-digest.ts), so a
 * deleted account's letters are found without opening each; null for one that is not a mail or
 * does not open (a deletion then opens it again, as it opened every letter before the digest).
 */
async function recipientOf(body: unknown, config: Config): Promise<string | null> {
  const mail = MailMessageSchema.safeParse(body);
  if (!mail.success) return null;
  const content = await contentOf(mail.data, config.encryptionKeys);
  return recipientDigest(config.ipHashKey, mail.data.tenant_id, content.to);
}

/** What the consumer may be given instead of the real thing (tests). */
export interface MailConsumerOptions {
  /** The transport; default: {@link transportFor} the deployment's config. */
  transport?: (env: Env) => MailTransport;
  sleeper?: Sleeper;
  random?: () => number;
}

/**
 * The consumer of the mail queue (`…-mail`) and of its dead-letter queue
 * (`…-mail-dlq`). Each message is parsed, its content opened, and sent with
 * the deployment's transport, one at a time, each acked or retried on its own:
 *
 * - sent → ack;
 * - a failure (provider down, 5xx, 429, timeout, no provider configured) →
 *   retry after `backoffDelay(attempts, MAIL_RETRY_*)` (full jitter, whole
 *   seconds); after the queue's `max_retries` Queues moves it to `…-mail-dlq`;
 *   after {@link GIVE_UP_AFTER} failures in a row the rest of the batch is
 *   retried the same way without a call, sparing a provider that is down;
 * - a message no retry can send (malformed, content that does not open, a
 *   provider's 400/413/422) → stored as a dead letter at once;
 * - a batch of `…-mail-dlq` → stored in D1 `mail_dead_letters`, for the
 *   operator to list and replay (`/api/v1/platform/mail/dead-letters`); one
 *   that D1 (or the config) refuses on its last delivery there goes back to
 *   `…-mail` instead, since Queues would delete it (send-back.ts);
 * - mail to an account deleted since it was queued (suppressions.ts) → neither
 *   sent (looked up once per batch, before the sends) nor stored as a dead
 *   letter: acked and logged (`cause: "recipient_deleted"`), so neither the
 *   provider's recovery nor a replay mails them.
 *
 * A message sent but not acked (the invocation died in between) is delivered
 * again: the dev mailbox stores it once (its row id is the mail id) and the
 * provider gets the same `Idempotency-Key`; a provider that ignores the key
 * sends it twice. No line logs a recipient, a subject or a body.
 */
export function createMailConsumer({ modules, needs, clock }: PlatformParts, options: MailConsumerOptions = {}) {
  const sleeper = options.sleeper ?? realSleeper;
  const registry = tenantRegistry(modules);
  return async (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> => {
    // Every way out of the batch, an outage's early one and an invalid config's included, is followed by the flush.
    await flushedAfter(
      env,
      clock,
      (p) => ctx.waitUntil(p),
      (recorder) => consume(batch, env, recorder),
    );
  };

  /** Consumes `batch`, each message acked or retried on its own, and counts how each settled in `recorder`. */
  async function consume(batch: MessageBatch<unknown>, env: Env, recorder: MetricsRecorder): Promise<void> {
    // Under an invalid config the batch waits for the operator's fix, but for the dead-letter
    // queue's last deliveries, which a retry would lose: they go back to the mail queue.
    const unconfigured: Unconfigured = { last: [] };
    const loaded = batchConfig(batch, env, needs, (b, log) => retryUnconfigured(b, log, unconfigured));
    if (!loaded) return sendBackUnconfigured(env, unconfigured);
    const { config, log } = loaded;
    const dead = mailDeadLetterStore(env.DB);
    const settled = (outcome: "acked" | "retried" | "dead_lettered") =>
      recorder.inc(METRICS.queueMessages, [batch.queue, outcome]);
    const delaySeconds = (attempts: number) =>
      Math.ceil(backoffDelay(Math.max(attempts, 1), config.mail.retry, options.random) / 1000);
    const retry = (message: Message<unknown>) => {
      message.retry({ delaySeconds: delaySeconds(message.attempts) });
      settled("retried");
    };
    const deadLetter = async (message: Message<unknown>, reason: string, mlog: Logger) => {
      try {
        // Counted as it is stored, once: a letter dismissed or replayed within the hour still counts.
        const digest = await recipientOf(message.body, config).catch(() => null);
        const stored = await dead.store(batch.queue, message, reason, clock.now(), digest);
        message.ack();
        // Its recipient's account was deleted after it was queued: kept, a replay would mail them.
        if (stored === "suppressed") {
          settled("acked");
          mlog.info("mail to a deleted recipient dropped", droppedFields(message.body, reason));
          return;
        }
        if (stored === "stored") countDeadLetter(recorder, "mail", stringField(message.body, "kind"));
        mlog.error("mail dead-lettered", { reason });
        settled("dead_lettered");
      } catch (error) {
        if (lastDeadLetterDelivery(batch.queue, message)) return sentBack(message, mlog, error);
        mlog.error("mail dead letter not stored; will retry", errorFields(error));
        retry(message);
      }
    };
    // On its last delivery of the dead-letter queue a letter D1 did not store goes back to the mail
    // queue (send-back.ts): retried, Queues would delete it.
    const sentBack = async (message: Message<unknown>, mlog: Logger, cause: unknown) => {
      const refused = await sendBack(env, message);
      if (refused === null) {
        settled("retried");
        mlog.error("mail dead letter not stored after its last retry; sent back to the mail queue", errorFields(cause));
        return;
      }
      mlog.error("mail dead letter neither stored nor sent back; lost if this was its last retry", {
        ...errorFields(refused),
        cause: errorFields(cause),
      });
      retry(message);
    };

    // A deleted tenant's mail is neither sent nor kept: its erasure removed its users.
    let gone: ReadonlySet<string>;
    try {
      gone = await deletedTenants(
        registry,
        env,
        batch.messages.map((m) => stringField(m.body, "tenant_id") ?? ""),
      );
    } catch (error) {
      log.error("tenant registry unreadable; retrying batch", errorFields(error));
      // The dead-letter queue's last deliveries go back to the mail queue: retried, Queues would delete them.
      for (const message of batch.messages) {
        const mlog = log.child({ message_id: message.id, attempts: message.attempts });
        if (lastDeadLetterDelivery(batch.queue, message)) await sentBack(message, mlog, error);
        else retry(message);
      }
      return;
    }
    const dropped = (message: Message<unknown>) => {
      if (!gone.has(stringField(message.body, "tenant_id") ?? "")) return false;
      message.ack();
      settled("acked");
      log.info("mail of a deleted tenant dropped", { message_id: message.id });
      return true;
    };

    if (batch.queue.endsWith("-dlq")) {
      for (const message of batch.messages) {
        if (dropped(message)) continue;
        await deadLetter(
          message,
          "retries exhausted",
          log.child({ message_id: message.id, attempts: message.attempts }),
        );
      }
      return;
    }

    // Checked once for the batch, before any send: mail to an account deleted since it was queued
    // is not sent (held-recipients.ts). Unchecked, it is not sent either: the batch is retried.
    let opened: Map<Message<unknown>, OpenedMail>;
    try {
      opened = await openHeld(batch.messages, config, env.DB, clock.now());
    } catch (error) {
      log.error("deleted recipients unreadable; retrying batch", errorFields(error));
      for (const message of batch.messages) retry(message);
      return;
    }
    const transport = options.transport?.(env) ?? transportFor(env, config, sleeper);
    let failedInARow = 0;
    let skipped = 0;
    for (const message of batch.messages) {
      let mlog = log.child({ message_id: message.id, attempts: message.attempts });
      if (dropped(message)) continue;
      const open = opened.get(message);
      if (open?.held) {
        message.ack();
        settled("acked");
        mlog.info("mail to a deleted recipient dropped", droppedFields(message.body));
        continue;
      }
      if (failedInARow >= GIVE_UP_AFTER) {
        retry(message);
        skipped++;
        continue;
      }
      const parsed = MailMessageSchema.safeParse(message.body);
      if (!parsed.success) {
        await deadLetter(message, "not a mail message", mlog);
        continue;
      }
      const mail = parsed.data;
      mlog = mlog.child({ mail_id: mail.id, mail_kind: mail.kind, tenant_id: mail.tenant_id });
      try {
        const content = open?.content ?? (await contentOf(mail, config.encryptionKeys));
        await transport.deliver({
          id: mail.id,
          tenantId: mail.tenant_id,
          kind: mail.kind,
          queuedAt: mail.created_at,
          ...content,
        });
        message.ack();
        settled("acked");
        failedInARow = 0;
        mlog.info("mail sent", { transport: transport.name });
      } catch (error) {
        if (error instanceof UnreadableMail || error instanceof MailRejected) {
          await deadLetter(message, error.message, mlog);
          continue;
        }
        failedInARow++;
        const delay = delaySeconds(message.attempts);
        mlog.error("mail not sent; will retry", { transport: transport.name, delay_s: delay, ...errorFields(error) });
        message.retry({ delaySeconds: delay });
        settled("retried");
      }
    }
    if (skipped > 0) log.warn("mail provider failing; rest of the batch retried without a call", { skipped });
  }
}
