import type { BatchItem } from "drizzle-orm/batch";
import { jsonInsert, newerOnly, type ReadModelDb } from "../../kernel/read-models";
import type { FileView } from "./contract";
import { objectKey } from "./policy";
import { files } from "./read-model";

/** A row of the `files` read model. */
export type Row = typeof files.$inferInsert;

/** The row a stored file leaves: its upload's, the first version of its stream. */
export function uploadedRow(tenantId: string, file: FileView): Row {
  return {
    tenant_id: tenantId,
    version: 1,
    id: file.id,
    key: objectKey(tenantId, file.id),
    name: file.name,
    content_type: file.content_type,
    size: file.size,
    sha256: file.sha256,
    created_by: file.created_by,
    created_at: file.created_at,
    deleted: false,
  };
}

/** Only over an older version of the file's stream: a repeat, or an upload after its deletion, changes nothing. */
const newerVersion = newerOnly(
  files,
  [files.tenant_id, files.id],
  [
    files.name,
    files.content_type,
    files.size,
    files.sha256,
    files.created_by,
    files.created_at,
    files.version,
    files.deleted,
  ],
  files.version,
);

/**
 * Upserts of `rows`, one per file, each applied only over an older version (a tombstone
 * stays): as JSON, a statement per hundred rows, so a rebuild's page of 500 is 5
 * statements, not 500, as the projection of a queue batch is.
 */
export function rowWrites(db: ReadModelDb, rows: readonly Row[]): BatchItem<"sqlite">[] {
  const writes = jsonInsert(db, files, rows, newerVersion);
  if (!writes) throw new Error("files rows: a value has no JSON form");
  return writes;
}
