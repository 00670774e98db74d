import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: text("id").primaryKey(),
    queue: text("queue").notNull(),
    messageId: text("message_id").notNull().unique(),
    eventType: text("event_type"),
    tenantId: text("tenant_id"),
    body: text("body").notNull(),
    attempts: integer("attempts").notNull(),
    receivedAt: text("received_at").notNull(),
    replayedAt: text("replayed_at"),
    /**
     * What the letter holds, by its own identity (queues/letter-key.ts): the tenant and event id,
     * which a redelivery and a send-back (a new message id) keep, so one event is one letter.
     * Null for letters stored before the column whose event had no id.
     */
    letterKey: text("letter_key"),
    /** When a replay claimed the letter (queues/replay-claim.ts): no other replay sends it while the claim lives. */
    claimedAt: text("claimed_at"),
  },
  (t) => [
    // Erasure and the sweep of erased tenants find a tenant's letters without scanning them all.
    index("dead_letters_tenant").on(t.tenantId),
    uniqueIndex("dead_letters_letter_key").on(t.letterKey),
  ],
);

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

/**
 * Mail the development transport delivered (development and tests only; see
 * docs/notifications.md), read at `GET /api/v1/dev/mailbox`. The id is the
 * mail's own id, so a message delivered twice by the queue is stored once.
 */
export const devMailbox = sqliteTable(
  "dev_mailbox",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    to: text("to_address").notNull(),
    subject: text("subject").notNull(),
    /** The plain-text part. */
    body: text("body").notNull(),
    /** The HTML part (null for mail stored before it had one). */
    html: text("html"),
    createdAt: text("created_at").notNull(),
  },
  // The mailbox lists one tenant's mail, and erasure deletes it: by tenant, not by a scan.
  (t) => [index("dev_mailbox_tenant").on(t.tenantId)],
);

/**
 * Mail messages the consumer gave up on (retries spent, or a message no retry
 * can send), kept so that nothing is lost: listed and replayed by the platform
 * operator (`/api/v1/platform/mail/dead-letters`). `body` is the queue message
 * as it was, its content still sealed; `message_id` is the queue delivery's id,
 * `mail_id` the mail's, which a replay and a send-back keep (the provider's
 * idempotency key), and with the tenant the letter's identity (`letter_key`).
 */
export const mailDeadLetters = sqliteTable(
  "mail_dead_letters",
  {
    id: text("id").primaryKey(),
    queue: text("queue").notNull(),
    messageId: text("message_id").notNull().unique(),
    mailId: text("mail_id"),
    tenantId: text("tenant_id"),
    kind: text("kind"),
    reason: text("reason").notNull(),
    body: text("body").notNull(),
    attempts: integer("attempts").notNull(),
    receivedAt: text("received_at").notNull(),
    replayedAt: text("replayed_at"),
    /**
     * Keyed digest of the tenant and the recipient's address (notify/recipient-digest.ts), so
     * an account's deletion finds its letters without opening every one; null when the content
     * did not open, no key was configured, or the letter predates the column.
     */
    recipientDigest: text("recipient_digest"),
    /**
     * The tenant and mail id (queues/letter-key.ts), which a send-back to the mail queue keeps
     * under a new message id: one mail is one letter. Null for letters stored before the column
     * that were not a mail message.
     */
    letterKey: text("letter_key"),
    /**
     * When a replay claimed the letter (queues/replay-claim.ts): set before its message is sent,
     * cleared as it is marked replayed. A claim older than the claim's lifetime is a replay that
     * died mid-way, and the letter is pending again.
     */
    claimedAt: text("claimed_at"),
  },
  (t) => [
    index("mail_dead_letters_tenant").on(t.tenantId, t.id),
    index("mail_dead_letters_recipient").on(t.tenantId, t.recipientDigest),
    // The minute's resend of mail not queued (notify/resend-unqueued.ts) finds its letters by queue and age.
    index("mail_dead_letters_queue_received").on(t.queue, t.receivedAt),
    uniqueIndex("mail_dead_letters_letter_key").on(t.letterKey),
  ],
);

/**
 * Recipients of a tenant whose account was deleted, by keyed digest (notify/recipient-digest.ts),
 * never the address: mail to them that was still on the queue at the deletion and fails later is
 * refused as a dead letter, in the statement that would store it, until `until` (the deletion plus
 * the mail queue's longest life, notify/late-mail.ts). Forgotten after `until` by the hourly
 * `tenants/purge-tokens`, and with the tenant's erasure.
 */
export const mailSuppressions = sqliteTable(
  "mail_suppressions",
  {
    tenantId: text("tenant_id").notNull(),
    digest: text("digest").notNull(),
    until: text("until").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.digest] }), index("mail_suppressions_until").on(t.until)],
);
