import { z } from "@hono/zod-openapi";
import { bounded, type PersonalData } from "../../kernel/modules/personal-data";
import { readModels } from "../../kernel/read-models";
import { type blogPosts, postsBy } from "./read-model";

/**
 * Posts in a user's export at most, newest first: a post holds up to 100,000 characters, so the
 * part stays under about 10 MB.
 */
export const BLOG_EXPORT_MAX = 100;

/** A post they wrote that is still there, as the read model holds it. */
const LivePostSchema = z.object({
  id: z.string(),
  title: z.string(),
  content: z.string(),
  status: z.enum(["draft", "published"]),
  version: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
  published_at: z.string().nullable(),
});

/** A post they deleted: that it was, and when; its title and text are not kept (the tombstone has none). */
const DeletedPostSchema = z.object({
  id: z.string(),
  status: z.literal("deleted"),
  version: z.number().int(),
  created_at: z.string(),
  deleted_at: z.string().openapi({ description: "when the post was deleted" }),
});

const BlogPersonalDataSchema = z
  .object({
    posts: z.array(z.discriminatedUnion("status", [LivePostSchema, DeletedPostSchema])),
    truncated: z.boolean().openapi({ description: `true when they wrote more than ${BLOG_EXPORT_MAX} posts` }),
  })
  .openapi("BlogPersonalData");

type ExportedPost = z.infer<typeof BlogPersonalDataSchema>["posts"][number];

/** A row as the export shows it: a tombstone's time is its deletion's (projection.ts dates it so). */
const exported = (row: typeof blogPosts.$inferSelect): ExportedPost[] => {
  if (row.status === "none") return [];
  if (row.status !== "deleted") return [LivePostSchema.parse(row)];
  const { id, status, version, created_at, updated_at: deleted_at } = row;
  return [{ id, status, version, created_at, deleted_at }];
};

/**
 * The blog's part of a user's export: the posts they wrote, every status, as the read model holds
 * them (a post written a moment ago may be a moment behind, as in its list). A deleted post is
 * there as id, status and times, without title or text: deleting it blanked them in the read model
 * (the post's event log still holds every version until the tenant is deleted: docs/identity.md).
 * Posts written with an API key are the key's.
 */
export const blogPersonalData: PersonalData<z.infer<typeof BlogPersonalDataSchema>> = {
  schema: BlogPersonalDataSchema,
  async export({ tenantId, userId }, { env }) {
    const rows = await postsBy(readModels(env), { tenantId, authorId: userId, limit: BLOG_EXPORT_MAX + 1 });
    const { items, truncated } = bounded(rows, BLOG_EXPORT_MAX);
    return { posts: items.flatMap(exported), truncated };
  },
};
