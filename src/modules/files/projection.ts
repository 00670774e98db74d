import { type Envelope, parseEvent } from "../../kernel/events/envelope";
import type { Subscription } from "../../kernel/modules/types";
import { type ReadModelDb, readModels } from "../../kernel/read-models";
import { FileEventSchema } from "./events";
import { objectKey } from "./policy";
import { fileStoreSource } from "./rebuild";
import { type Row, rowWrites } from "./rows";

/** The row an event leaves: the upload's metadata, or a tombstone. */
function rowOf(envelope: Envelope): Row | null {
  const event = parseEvent(FileEventSchema, envelope);
  const base = { tenant_id: event.tenant_id, version: event.version };
  switch (event.type) {
    case "files.file.uploaded":
      return {
        ...base,
        id: event.data.file_id,
        key: objectKey(event.tenant_id, event.data.file_id),
        name: event.data.name,
        content_type: event.data.content_type,
        size: event.data.size,
        sha256: event.data.sha256,
        created_by: event.actor.id ?? event.actor.kind,
        created_at: event.data.created_at,
        deleted: false,
      };
    case "files.file.deleted":
      return {
        ...base,
        id: event.data.file_id,
        key: objectKey(event.tenant_id, event.data.file_id),
        name: "",
        content_type: "",
        size: 0,
        sha256: "",
        created_by: "",
        created_at: event.occurred_at,
        deleted: true,
      };
    default:
      return null;
  }
}

/**
 * `files`: each file's metadata from its events. A row is written only over
 * an older version of its stream, so duplicates and reordering leave the
 * same table (a deletion seen before its upload leaves the tombstone).
 * Applied by the FileStore right after each commit (`inline`) and by the
 * queue, which finds what the inline pass applied already recorded.
 */
export const fileProjection: Subscription = {
  name: "files.files",
  types: ["files.file.uploaded", "files.file.deleted"],
  inline: true,
  // The store keeps its live files, which is all the list shows (not the tombstones of deleted ones).
  rebuildFrom: fileStoreSource,
  async handleBatch(events, { env }) {
    return { writes: fileWrites(readModels(env), events) };
  },
};

/** The upserts of `events`' newest row per file, each applied only over an older version. */
export function fileWrites(db: ReadModelDb, events: readonly Envelope[]) {
  const newest = new Map<string, Row>();
  for (const e of events) {
    const row = rowOf(e);
    const seen = row && newest.get(`${row.tenant_id}/${row.id}`);
    if (row && (!seen || seen.version < row.version)) newest.set(`${row.tenant_id}/${row.id}`, row);
  }
  return rowWrites(db, [...newest.values()]);
}
