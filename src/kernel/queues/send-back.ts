import { errorFields, type Logger } from "../log";
import { INVALID_CONFIG_RETRY_S } from "./batch-config";

/**
 * Whether `message` is on its last delivery of a dead-letter queue (`…-dlq`) whose consumer
 * retries `maxRetries` times, or on the one before: whether Queues counts the delivery that moved
 * it there is not ours to rely on. A dead-letter queue has no queue behind it, and Queues deletes
 * a message retried past its `max_retries`, content and all; such a message is sent back to the
 * queue it came from instead ({@link sendBack}).
 */
export const lastDeadLetterDelivery = (queue: string, message: Message<unknown>, maxRetries: number): boolean =>
  queue.endsWith("-dlq") && message.attempts >= maxRetries;

/**
 * Puts a dead letter that could not be stored back on `producer` (the queue it came from), as
 * `body` (the message's own by default), and acks it: it is consumed again there, or comes back
 * to the dead-letter queue with its retries anew, so an outage of any length loses it not.
 * Answers the error when `producer` refused it too (the message is then left for the caller).
 */
export async function sendBack(producer: Queue, message: Message<unknown>, body: unknown = message.body) {
  try {
    await producer.send(body, { contentType: "json" });
  } catch (error) {
    return error ?? new Error("the queue refused the message");
  }
  message.ack();
  return null;
}

/** A batch under an invalid config: its logger, and the messages to send back rather than retry. */
export interface Unconfigured {
  log?: Logger;
  last: Message<unknown>[];
}

/**
 * The retry of a batch under an invalid config (batch-config.ts): the whole batch in a minute,
 * as every consumer's, but for the messages `isLast` picks (a dead-letter queue's last
 * deliveries), which it leaves (in `into`) for {@link sendBackUnconfigured}: a config broken for
 * longer than the dead-letter queue's retries would otherwise lose every letter that waited in it.
 */
export function retryUnconfigured(
  batch: MessageBatch<unknown>,
  log: Logger,
  into: Unconfigured,
  isLast: (message: Message<unknown>) => boolean,
): void {
  into.log = log;
  into.last = batch.messages.filter(isLast);
  if (into.last.length === 0) {
    batch.retryAll({ delaySeconds: INVALID_CONFIG_RETRY_S });
    return;
  }
  for (const m of batch.messages) if (!into.last.includes(m)) m.retry({ delaySeconds: INVALID_CONFIG_RETRY_S });
}

/** The log lines of a send-back: sent, and refused (then retried, lost if that was its last). */
export interface SendBackLines {
  sent: string;
  lost: string;
}

/** Sends back to `producer` what {@link retryUnconfigured} left; one `producer` refuses is retried. */
export async function sendBackUnconfigured(
  producer: Queue,
  { log, last }: Unconfigured,
  lines: SendBackLines,
): Promise<void> {
  for (const message of last) {
    const refused = await sendBack(producer, message);
    const fields = { message_id: message.id, attempts: message.attempts, cause: "config_invalid" };
    if (refused === null) {
      log?.error(lines.sent, fields);
      continue;
    }
    log?.error(lines.lost, { ...fields, ...errorFields(refused) });
    message.retry({ delaySeconds: INVALID_CONFIG_RETRY_S });
  }
}
