import { errorFields, type Logger } from "../log";
import { INVALID_CONFIG_RETRY_S } from "../queues/batch-config";
import { MAIL_DLQ_MAX_RETRIES } from "./late-mail";

/**
 * Whether `message` is on its last delivery of the mail dead-letter queue (`…-mail-dlq`), or the
 * one before: whether Queues counts the delivery that moved it there is not ours to rely on. The
 * dead-letter queue has no queue behind it, and Queues deletes a message retried past its
 * `max_retries`, mail and all; such a message is sent back instead ({@link sendBack}).
 */
export const lastDeadLetterDelivery = (queue: string, message: Message<unknown>): boolean =>
  queue.endsWith("-dlq") && message.attempts >= MAIL_DLQ_MAX_RETRIES;

/**
 * Puts a mail dead letter that could not be stored back on the mail queue as it was, and acks it:
 * it is sent if the provider is back (its recipient looked up again first), or comes back to the
 * dead-letter queue with its retries anew, so an outage of any length loses it not. Answers the
 * error when the mail queue refused it too (the message is then left for the caller to retry).
 */
export async function sendBack(env: Env, message: Message<unknown>): Promise<unknown> {
  try {
    await env.MAIL.send(message.body, { contentType: "json" });
  } catch (error) {
    return error ?? new Error("the mail queue refused the message");
  }
  message.ack();
  return null;
}

/** A mail batch under an invalid config: its logger, and the messages to send back rather than retry. */
export interface Unconfigured {
  log?: Logger;
  last: Message<unknown>[];
}

/**
 * The retry of a mail batch under an invalid config (queues/batch-config.ts): the whole batch in a
 * minute, as every consumer's, but for the dead-letter queue's last deliveries, which it leaves
 * (in `into`) for {@link sendBackUnconfigured}: a config broken for longer than the dead-letter
 * queue's retries (ten minutes) would otherwise lose every mail dead letter that waited in it.
 */
export function retryUnconfigured(batch: MessageBatch<unknown>, log: Logger, into: Unconfigured): void {
  into.log = log;
  into.last = batch.messages.filter((m) => lastDeadLetterDelivery(batch.queue, m));
  if (into.last.length === 0) {
    batch.retryAll({ delaySeconds: INVALID_CONFIG_RETRY_S });
    return;
  }
  for (const m of batch.messages) if (!into.last.includes(m)) m.retry({ delaySeconds: INVALID_CONFIG_RETRY_S });
}

/** Sends back what {@link retryUnconfigured} left; one the mail queue refuses is retried, and said lost if that was its last. */
export async function sendBackUnconfigured(env: Env, { log, last }: Unconfigured): Promise<void> {
  for (const message of last) {
    const refused = await sendBack(env, message);
    const fields = { message_id: message.id, attempts: message.attempts, cause: "config_invalid" };
    if (refused === null) {
      log?.error("mail dead letter not stored after its last retry; sent back to the mail queue", fields);
      continue;
    }
    log?.error("mail dead letter neither stored nor sent back; lost if this was its last retry", {
      ...fields,
      ...errorFields(refused),
    });
    message.retry({ delaySeconds: INVALID_CONFIG_RETRY_S });
  }
}
