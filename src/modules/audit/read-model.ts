import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The audit log's D1 read model, for filtered lists: a copy of the AuditLog
 * DO's entries, inserted (never updated) after each append, idempotent on
 * (tenant_id, seq). The DO stays the source of truth for export and verify.
 */
export const auditEntries = sqliteTable(
  "audit_entries",
  {
    tenantId: text("tenant_id").notNull(),
    seq: integer("seq").notNull(),
    at: text("at").notNull(),
    actorKind: text("actor_kind").notNull(),
    actorId: text("actor_id"),
    action: text("action").notNull(),
    target: text("target"),
    requestId: text("request_id"),
    ipHash: text("ip_hash"),
    /** The entry's `detail` as JSON text, null when it has none. */
    detail: text("detail"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.seq] }),
    index("audit_entries_tenant_action").on(t.tenantId, t.action, t.seq),
    index("audit_entries_tenant_actor").on(t.tenantId, t.actorId, t.seq),
  ],
);
