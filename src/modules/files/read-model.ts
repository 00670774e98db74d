import { and, desc, eq, lt } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { ReadModelDb } from "../../kernel/read-models";

/**
 * The files read model: one row per file, filled by the files projection
 * from `files.file.uploaded` (stream version 1) and `files.file.deleted`
 * (version 2). A deleted file stays as a tombstone (`deleted` 1) so that a
 * late duplicate of its upload cannot bring it back.
 */
export const files = sqliteTable(
  "files",
  {
    tenant_id: text("tenant_id").notNull(),
    id: text("id").notNull(),
    /** The R2 object key: `<tenant_id>/<id>`. */
    key: text("key").notNull(),
    name: text("name").notNull(),
    content_type: text("content_type").notNull(),
    size: integer("size").notNull(),
    sha256: text("sha256").notNull(),
    created_by: text("created_by").notNull(),
    created_at: text("created_at").notNull(),
    /** The version of the file's stream this row reflects. */
    version: integer("version").notNull(),
    deleted: integer("deleted", { mode: "boolean" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenant_id, t.id] }),
    index("files_tenant_live").on(t.tenant_id, t.deleted, t.id),
    // A person's export: the files they uploaded in id order without walking the tenant's.
    index("files_tenant_creator").on(t.tenant_id, t.created_by, t.id),
  ],
);

/** A tenant's live files (no tombstones), newest id first, below `cursor`. */
export function listFiles(db: ReadModelDb, f: { tenantId: string; cursor?: string; limit: number }) {
  const t = files;
  return db
    .select()
    .from(t)
    .where(and(eq(t.tenant_id, f.tenantId), eq(t.deleted, false), f.cursor ? lt(t.id, f.cursor) : undefined))
    .orderBy(desc(t.id))
    .limit(f.limit);
}

/**
 * The SHA-256 (hex) recorded for a tenant's file, or null when no row has it
 * (the projection has not caught up, or the object was stored without one).
 * A tombstone's digest is returned too: a file's bytes never change, so the
 * digest of the object still being served stays true.
 */
export async function recordedSha256(db: ReadModelDb, tenantId: string, id: string): Promise<string | null> {
  const rows = await db
    .select({ sha256: files.sha256 })
    .from(files)
    .where(and(eq(files.tenant_id, tenantId), eq(files.id, id)))
    .limit(1);
  return rows[0]?.sha256 ?? null;
}

/**
 * The files `userId` uploaded in a tenant, newest id first, tombstones included (a deleted file's
 * row keeps its name): their export (personal-data.ts), through the (tenant, uploader, id) index.
 */
export function filesBy(db: ReadModelDb, f: { tenantId: string; userId: string; limit: number }) {
  const t = files;
  return db
    .select()
    .from(t)
    .where(and(eq(t.tenant_id, f.tenantId), eq(t.created_by, f.userId)))
    .orderBy(desc(t.id))
    .limit(f.limit);
}
