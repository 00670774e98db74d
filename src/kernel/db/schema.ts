import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Idempotency ledger of queue consumers: a consumer records each event id it
 * has applied, right after its effect, and skips ids it has. Rows older than
 * any possible redelivery are purged by the `events` module's hourly job.
 */
export const processedEvents = sqliteTable(
  "processed_events",
  {
    consumer: text("consumer").notNull(),
    eventId: text("event_id").notNull(),
    processedAt: text("processed_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] }), index("processed_events_processed_at").on(t.processedAt)],
);

/**
 * Messages that exhausted their retries on the events queue, kept so that
 * nothing is lost: inspectable and replayable by operators.
 */
export const deadLetters = sqliteTable("dead_letters", {
  id: text("id").primaryKey(),
  queue: text("queue").notNull(),
  messageId: text("message_id").notNull().unique(),
  eventType: text("event_type"),
  tenantId: text("tenant_id"),
  body: text("body").notNull(),
  attempts: integer("attempts").notNull(),
  receivedAt: text("received_at").notNull(),
  replayedAt: text("replayed_at"),
});
