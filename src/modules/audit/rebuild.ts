import type { RebuildSource } from "../../kernel/modules/types";
import { readModels } from "../../kernel/read-models";
import { AUDIT_PAGE, auditLog } from "./contract";
import { entryWrites } from "./read-model";

/**
 * The audit read model's source of truth: each tenant's AuditLog chain. Most
 * entries come from writers that keep no event log, so no replay of events can
 * bring them back; the chain holds every one, insert-only, by seq. A page is
 * the chain's entries after a seq, copied with the subscriber's own writes
 * (a row already as the chain has it is left alone, one that drifted is put
 * back), so a rebuild racing the live subscriber or itself leaves each
 * (tenant, seq) once with the chain's values.
 */
export const auditChainSource: RebuildSource = {
  async page({ env }, tenantId, after, limit) {
    const want = Math.min(limit, AUDIT_PAGE);
    const entries = await auditLog(env, tenantId).entries({ fromSeq: after + 1, limit: want });
    return {
      writes: entries.length ? entryWrites(readModels(env), tenantId, entries) : [],
      read: entries.length,
      last: entries.at(-1)?.seq ?? after,
      done: entries.length < want,
    };
  },
};
