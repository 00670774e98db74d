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
