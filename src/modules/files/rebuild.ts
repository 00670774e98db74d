import type { RebuildSource } from "../../kernel/modules/types";
import { readModels } from "../../kernel/read-models";
import { FILES_PAGE, fileStore } from "./contract";
import { rowWrites, uploadedRow } from "./rows";

/**
 * The `files` read model's source for a rebuild: each tenant's FileStore, which keeps
 * every live file with the metadata its upload event carried. A page is the store's
 * rows after a position, its ready files written as their uploads' rows through the
 * projection's own version-guarded upsert: an intact row (or a later tombstone) is left
 * as it is, so a rebuild racing the projection or itself changes nothing twice. A deleted
 * file is gone from its store: its tombstone, should it be lost, does not come back (a
 * missing row hides the file from the list as a tombstone does).
 */
export const fileStoreSource: RebuildSource = {
  async page({ env }, tenantId, after, limit) {
    const want = Math.min(limit, FILES_PAGE);
    const { files, read, last } = await fileStore(env, tenantId).page({ after, limit: want });
    return {
      writes: rowWrites(
        readModels(env),
        files.map((f) => uploadedRow(tenantId, f)),
      ),
      read,
      last,
      done: read < want,
    };
  },
};
