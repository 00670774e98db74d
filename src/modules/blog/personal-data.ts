import { z } from "@hono/zod-openapi";
import { bounded, type PersonalData } from "../../kernel/modules/personal-data";
import { readModels } from "../../kernel/read-models";
import { postsBy } from "./read-model";

/**
 * Posts in a user's export at most, newest first: a post holds up to 100,000 characters, so the
 * part stays under about 10 MB.
 */
export const BLOG_EXPORT_MAX = 100;

const BlogPersonalDataSchema = z
  .object({
    posts: z.array(
      z.object({
        id: z.string(),
        title: z.string(),
        content: z.string(),
        status: z.enum(["draft", "published", "deleted"]),
        version: z.number().int(),
        created_at: z.string(),
        updated_at: z.string(),
        published_at: z.string().nullable(),
      }),
    ),
    truncated: z.boolean().openapi({ description: `true when they wrote more than ${BLOG_EXPORT_MAX} posts` }),
  })
  .openapi("BlogPersonalData");

/**
 * The blog's part of a user's export: the posts they wrote, every status, as the read model holds
 * them (a post written a moment ago may be a moment behind, as in its list). A deleted post is
 * there too: its tombstone keeps its title and text. Posts written with an API key are the key's.
 */
export const blogPersonalData: PersonalData<z.infer<typeof BlogPersonalDataSchema>> = {
  schema: BlogPersonalDataSchema,
  async export({ tenantId, userId }, { env }) {
    const rows = await postsBy(readModels(env), { tenantId, authorId: userId, limit: BLOG_EXPORT_MAX + 1 });
    const { items, truncated } = bounded(rows, BLOG_EXPORT_MAX);
    return { posts: BlogPersonalDataSchema.shape.posts.parse(items), truncated };
  },
};
