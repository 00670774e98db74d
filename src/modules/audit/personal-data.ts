import { z } from "@hono/zod-openapi";
import { bounded, type PersonalData } from "../../kernel/modules/personal-data";
import { readModels } from "../../kernel/read-models";
import { entriesAbout, listEntries } from "./read-model";

/** Audit entries in a user's export at most, in each of its two lists: their newest. */
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
    about: z
      .object({
        entries: z.array(
          z.object({
            seq: z.number().int(),
            at: z.string(),
            action: z.string(),
            actor_kind: z
              .string()
              .openapi({ description: "who acted, by kind only: user, api_key, anonymous, system…" }),
            request_id: z.string().nullable(),
          }),
        ),
        truncated: z
          .boolean()
          .openapi({ description: `true when the log holds more than ${AUDIT_EXPORT_MAX} entries about them` }),
      })
      .openapi({
        description:
          "the entries whose target is the user, acted by anyone but them (an administrator, a key, their registration)",
      }),
  })
  .openapi("AuditPersonalData");

/**
 * The audit log's part of a user's export, newest first, from the log's read model:
 * - `entries`: those whose actor is them (what they did, when, and the keyed hash of the address
 *   they did it from), by its (tenant, actor) index;
 * - `about`: those whose target is their user (`<tenant>/user/<id>`) made by anyone else (an
 *   administrator's grant, suspension or reset, a key's act, their registration, recorded as
 *   anonymous), by its (tenant, target) index; the actor by kind only, without its
 *   id and address hash, which are the other person's.
 * Without `target` and `detail`: what an act was done to is often another's (a refused request's
 * `target` is whatever id its path named), and the whole entry stays readable by an administrator
 * (`GET /api/v1/admin/audit?actor=<id>`, or the log's export).
 */
export const auditPersonalData: PersonalData<z.infer<typeof AuditPersonalDataSchema>> = {
  schema: AuditPersonalDataSchema,
  async export({ tenantId, userId }, { env }) {
    const db = readModels(env);
    const limit = AUDIT_EXPORT_MAX + 1;
    const [acted, about] = await Promise.all([
      listEntries(db, { tenantId, actorId: userId, limit }),
      entriesAbout(db, { tenantId, target: `${tenantId}/user/${userId}`, notActorId: userId, limit }),
    ]);
    const mine = bounded(
      acted.filter((r) => r.actorKind === "user"),
      AUDIT_EXPORT_MAX,
    );
    const theirs = bounded(about, AUDIT_EXPORT_MAX);
    return {
      entries: mine.items.map((r) => ({
        seq: r.seq,
        at: r.at,
        action: r.action,
        request_id: r.requestId,
        ip_hash: r.ipHash,
      })),
      truncated: mine.truncated,
      about: {
        entries: theirs.items.map((r) => ({
          seq: r.seq,
          at: r.at,
          action: r.action,
          actor_kind: r.actorKind,
          request_id: r.requestId,
        })),
        truncated: theirs.truncated,
      },
    };
  },
};
