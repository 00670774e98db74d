import { z } from "@hono/zod-openapi";
import { bounded, type PersonalData } from "../../kernel/modules/personal-data";
import { readModels } from "../../kernel/read-models";
import { filesBy } from "./read-model";

/** Files in a user's export at most, newest first. */
export const FILES_EXPORT_MAX = 1000;

const FilesPersonalDataSchema = z
  .object({
    files: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        content_type: z.string(),
        size: z.number().int(),
        sha256: z.string(),
        created_at: z.string(),
        deleted: z.boolean(),
      }),
    ),
    truncated: z.boolean().openapi({ description: `true when they uploaded more than ${FILES_EXPORT_MAX} files` }),
  })
  .openapi("FilesPersonalData");

/**
 * The files module's part of a user's export: the metadata of the files they uploaded (a deleted
 * one's too: its row keeps its name), as the read model holds it. Not their content: each live one
 * is downloaded by id (`GET /api/v1/files/{id}`) by whoever may read files.
 */
export const filesPersonalData: PersonalData<z.infer<typeof FilesPersonalDataSchema>> = {
  schema: FilesPersonalDataSchema,
  async export({ tenantId, userId }, { env }) {
    const rows = await filesBy(readModels(env), { tenantId, userId, limit: FILES_EXPORT_MAX + 1 });
    const { items, truncated } = bounded(rows, FILES_EXPORT_MAX);
    return { files: items, truncated };
  },
};
