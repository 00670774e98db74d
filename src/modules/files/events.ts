import { z } from "zod";

const Id = z.string().min(1).max(64);

/**
 * The files module's events, each on the file's stream `<tenant>/file/<id>`
 * (uploaded is version 1, deleted version 2) or the tenant's
 * `<tenant>/files` (quota changes). Stored events are history: parsed
 * leniently (no length limits beyond the envelope's).
 */
export const FileEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("files.file.uploaded"),
    data: z.object({
      file_id: Id,
      name: z.string(),
      content_type: z.string(),
      size: z.number().int().min(0),
      sha256: z.string(),
      created_at: z.string(),
    }),
  }),
  z.object({
    type: z.literal("files.file.deleted"),
    data: z.object({ file_id: Id, size: z.number().int().min(0) }),
  }),
  z.object({
    type: z.literal("files.quota.updated"),
    /** The tenant's own quota; null: the platform's default. */
    data: z.object({ quota_bytes: z.number().int().nullable() }),
  }),
]);
export type FileEvent = z.infer<typeof FileEventSchema>;
