import { and, desc, eq, gte, isNull, lt, lte, ne, or, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { jsonInsert, type ReadModelDb, unlessSame } from "../../kernel/read-models";
import type { AuditEntry } from "./chain";

/**
 * The audit log's read model (D1 or libSQL), for filtered lists: a copy of the AuditLog
 * DO's entries, written after each append (a row is only ever rewritten to the chain's
 * values, should it have drifted from them), idempotent on
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
    // A person's export reads the entries about them (target `<tenant>/user/<id>`) by it.
    index("audit_entries_tenant_target").on(t.tenantId, t.target, t.seq),
  ],
);

/** What an audit page filters on; the bounds are inclusive, `before` a seq the page ends below. */
export interface EntryFilter {
  tenantId: string;
  before?: number;
  actorId?: string;
  action?: string;
  /** ISO times (toISOString()), so string order is time order. */
  since?: string;
  until?: string;
  limit: number;
}

/** A tenant's audit entries, newest (highest seq) first. */
export function listEntries(db: ReadModelDb, f: EntryFilter) {
  const t = auditEntries;
  const where: SQL[] = [eq(t.tenantId, f.tenantId)];
  if (f.before !== undefined) where.push(lt(t.seq, f.before));
  if (f.actorId) where.push(eq(t.actorId, f.actorId));
  if (f.action) where.push(eq(t.action, f.action));
  if (f.since) where.push(gte(t.at, f.since));
  if (f.until) where.push(lte(t.at, f.until));
  return db
    .select()
    .from(t)
    .where(and(...where))
    .orderBy(desc(t.seq))
    .limit(f.limit);
}

/**
 * A tenant's entries whose target is `target` and whose actor is not the user `notActorId` (their
 * own acts, listed by actor), newest first: by the (tenant, target) index.
 */
export function entriesAbout(
  db: ReadModelDb,
  f: { tenantId: string; target: string; notActorId: string; limit: number },
) {
  const t = auditEntries;
  const byOthers = or(ne(t.actorKind, "user"), isNull(t.actorId), ne(t.actorId, f.notActorId));
  return db
    .select()
    .from(t)
    .where(and(eq(t.tenantId, f.tenantId), eq(t.target, f.target), byOthers))
    .orderBy(desc(t.seq))
    .limit(f.limit);
}

const t = auditEntries;
/**
 * A row is the chain's entry at (tenant, seq), which never changes: a repeat writes nothing
 * (and counts no change), and a row that drifted from the chain is put back, so a rebuild
 * from the chains (rebuild.ts) leaves every row it reads as the chain has it.
 */
const asInTheChain = unlessSame(
  t,
  [t.tenantId, t.seq],
  [t.at, t.actorKind, t.actorId, t.action, t.target, t.requestId, t.ipHash, t.detail, t.prevHash, t.hash],
);

/** The read model's writes of `entries` (a repeat is a no-op), for the consumer's transaction and the rebuild's. */
export function entryWrites(db: ReadModelDb, tenantId: string, entries: readonly AuditEntry[]): BatchItem<"sqlite">[] {
  const rows = entries.map((e) => ({
    tenantId,
    seq: e.seq,
    at: e.at,
    actorKind: e.actor.kind,
    actorId: e.actor.id,
    action: e.action,
    target: e.target,
    requestId: e.request_id,
    ipHash: e.ip_hash,
    detail: e.detail === undefined ? null : JSON.stringify(e.detail),
    prevHash: e.prev_hash,
    hash: e.hash,
  }));
  // Text and integers only, so the rows always travel as one JSON parameter (a statement per hundred).
  const writes = jsonInsert(db, auditEntries, rows, asInTheChain);
  if (!writes) throw new Error("audit entries: a value has no JSON form");
  return writes;
}
