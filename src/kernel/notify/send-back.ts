import type { Logger } from "../log";
import * as queues from "../queues/send-back";
import { MAIL_DLQ_MAX_RETRIES } from "./late-mail";

export type { Unconfigured } from "../queues/send-back";

/** The lines of a mail dead letter sent back to the mail queue, or not. */
const LINES: queues.SendBackLines = {
  sent: "mail dead letter not stored after its last retry; sent back to the mail queue",
  lost: "mail dead letter neither stored nor sent back; lost if this was its last retry",
};

/**
 * Whether `message` is on its last delivery of the mail dead-letter queue (`…-mail-dlq`), or the
 * one before (queues/send-back.ts): such a message is sent back instead ({@link sendBack}).
 */
export const lastDeadLetterDelivery = (queue: string, message: Message<unknown>): boolean =>
  queues.lastDeadLetterDelivery(queue, message, MAIL_DLQ_MAX_RETRIES);

/**
 * Puts a mail dead letter that could not be stored back on the mail queue as it was, and acks it:
 * it is sent if the provider is back (its recipient looked up again first), or comes back to the
 * dead-letter queue with its retries anew, so an outage of any length loses it not. Answers the
 * error when the mail queue refused it too (the message is then left for the caller to retry).
 */
export const sendBack = (env: Env, message: Message<unknown>): Promise<unknown> => queues.sendBack(env.MAIL, message);

/**
 * The retry of a mail batch under an invalid config (queues/batch-config.ts): the whole batch in a
 * minute, as every consumer's, but for the dead-letter queue's last deliveries, which it leaves
 * (in `into`) for {@link sendBackUnconfigured}: a config broken for longer than the dead-letter
 * queue's retries (ten minutes) would otherwise lose every mail dead letter that waited in it.
 */
export const retryUnconfigured = (batch: MessageBatch<unknown>, log: Logger, into: queues.Unconfigured): void =>
  queues.retryUnconfigured(batch, log, into, (m) => lastDeadLetterDelivery(batch.queue, m));

/** Sends back what {@link retryUnconfigured} left; one the mail queue refuses is retried, and said lost if that was its last. */
export const sendBackUnconfigured = (env: Env, unconfigured: queues.Unconfigured): Promise<void> =>
  queues.sendBackUnconfigured(env.MAIL, unconfigured, LINES);
