import type { Clock } from "../clock";
import type { Config } from "../config";
import { mailDeadLetterStore } from "./dead-letters";
import type { KeptAs } from "./enqueue";
import type { MailMessage } from "./message";
import { recipientDigest } from "./recipient-digest";

/**
 * The `queue` of a mail dead letter kept by the request that could not queue it: no queue ever
 * held it. The letter's message id is `not-queued:<mail id>`, never a queue's.
 */
export const UNQUEUED = "not-queued";

/**
 * Keeps a request's mail the MAIL queue would not take (`EnqueueRetry.keep`, enqueue.ts) as a
 * mail dead letter: pending, sealed as it would have been queued, with its recipient's digest
 * (so deleting the account dismisses it, as any letter), sent again once the queue answers by
 * the minute's job (resend-unqueued.ts), or after its hour by the operator's replay
 * (`plinth mail-dead-letters replay-pending`). D1 is another service than Queues,
 * so a queue outage no longer loses the mail a request stored a token for.
 *
 * @example
 * keepUnqueued(c.env.DB, config, clock, { tenantId, to })(message, "not queued: …", 3); // "stored"
 */
export function keepUnqueued(
  db: D1Database,
  config: Pick<Config, "ipHashKey">,
  clock: Clock,
  recipient: { tenantId: string; to: string },
): (message: MailMessage, reason: string, attempts: number) => Promise<KeptAs> {
  return (message, reason, attempts) =>
    mailDeadLetterStore(db).store(
      UNQUEUED,
      { id: `${UNQUEUED}:${message.id}`, body: message, attempts },
      reason,
      clock.now(),
      recipientDigest(config.ipHashKey, recipient.tenantId, recipient.to),
    );
}
