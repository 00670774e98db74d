import { z } from "@hono/zod-openapi";
import { bounded, type PersonalData } from "../../kernel/modules/personal-data";
import { readModels } from "../../kernel/read-models";
import { listEntries } from "./read-model";

/** Audit entries in a user's export at most: their newest. */
export const AUDIT_EXPORT_MAX = 1000;

const AuditPersonalDataSchema = z
  .object({
    entries: z.array(
      z.object({
        seq: z.number().int(),
        at: z.string(),
        action: z.string(),
        request_id: z.string().nullable(),
        ip_hash: z.string().nullable(),
      }),
    ),
    truncated: z
      .boolean()
      .openapi({ description: `true when the log holds more than ${AUDIT_EXPORT_MAX} entries of theirs` }),
  })
  .openapi("AuditPersonalData");

/**
 * The audit log's part of a user's export: the entries whose actor is them (what they did, when,
 * and the keyed hash of the address they did it from), newest first, read from the log's read
 * model by its (tenant, actor) index. Without `target` and `detail`: what an act was done to is
 * often another's (a refused request's `target` is whatever id its path named), and the whole
 * entry stays readable by an administrator (`GET /api/v1/admin/audit?actor=<id>`).
 */
export const auditPersonalData: PersonalData<z.infer<typeof AuditPersonalDataSchema>> = {
  schema: AuditPersonalDataSchema,
  async export({ tenantId, userId }, { env }) {
    const rows = await listEntries(readModels(env), { tenantId, actorId: userId, limit: AUDIT_EXPORT_MAX + 1 });
    const { items, truncated } = bounded(
      rows.filter((r) => r.actorKind === "user"),
      AUDIT_EXPORT_MAX,
    );
    return {
      entries: items.map((r) => ({
        seq: r.seq,
        at: r.at,
        action: r.action,
        request_id: r.requestId,
        ip_hash: r.ipHash,
      })),
      truncated,
    };
  },
};
