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

/**
 * Every event stream the queue consumer has seen, with the newest version it
 * saw: what a replay walks to rebuild or backfill a read model from the
 * writers (kernel/events/replay.ts). Kept by the kernel's own `"*"`
 * subscription; a version only ever grows.
 */
export const eventStreams = sqliteTable(
  "event_streams",
  {
    stream: text("stream").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    /** The writer's kind: the aggregate type for `<tenant>/<type>/<id>`. */
    type: text("type").notNull(),
    version: integer("version").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("event_streams_type").on(t.type, t.stream),
    index("event_streams_tenant_type").on(t.tenantId, t.type, t.stream),
  ],
);
