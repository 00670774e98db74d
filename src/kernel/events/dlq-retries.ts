/**
 * `max_retries` of the events dead-letter queue's consumer (`…-events-dlq`) in every environment
 * of wrangler.toml, which the Worker cannot read: from this delivery on, a letter D1 does not
 * store goes back to the events queue rather than being retried into Queues' deletion
 * (dead-letter-queue.ts). test/node/events-queue-retries.test.ts holds the two to one number.
 */
export const EVENTS_DLQ_MAX_RETRIES = 10;
