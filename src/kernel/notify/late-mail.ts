import { type BackoffPolicy, backoffCeiling } from "../resilience";

/**
 * `max_retries` of the mail queue's consumer (`…-mail`) and of its dead-letter queue's
 * (`…-mail-dlq`) in every environment of wrangler.toml, which the Worker cannot read:
 * test/node/mail-queue-retries.test.ts holds the two to the same numbers.
 */
export const MAIL_QUEUE_MAX_RETRIES = 30;
export const MAIL_DLQ_MAX_RETRIES = 10;

/** The longest the consumer makes `retries` retries wait in all, ms: every wait at its ceiling. */
function longestWaits(retries: number, policy: BackoffPolicy): number {
  let total = 0;
  for (let attempt = 1; attempt <= retries; attempt++) total += backoffCeiling(attempt, policy);
  return total;
}

/**
 * The longest a mail queued before an account's deletion can take to become a dead letter after
 * it, ms, under the deployment's retry schedule (`config.mail.retry`): every retry on the mail
 * queue at its ceiling, then every retry of the dead-letter consumer's store at its ceiling (the
 * consumer retries both with the same backoff), doubled. Queues delivers a retry no earlier than
 * its delay but may deliver it later (a backlog, a consumer that failed to start), and the price
 * of the margin is only how long a recipient digest stays. With the defaults (30 s to 1 h, 30 and
 * 10 retries) that is about 56 hours.
 *
 * @example
 * lateMailWindowMs(config.mail.retry); // 202_440_000
 */
export function lateMailWindowMs(policy: BackoffPolicy): number {
  return 2 * (longestWaits(MAIL_QUEUE_MAX_RETRIES, policy) + longestWaits(MAIL_DLQ_MAX_RETRIES, policy));
}
