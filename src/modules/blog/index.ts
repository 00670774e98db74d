import type { ModuleDef } from "../../kernel/modules/types";
import { PostEventSchema, postDecider } from "./domain";
import { blogErrors } from "./errors";
import { manifest } from "./manifest";
import { blogPersonalData } from "./personal-data";
import { postProjection } from "./projection";
import { blogPosts } from "./read-model";
import { blogRoutes } from "./routes";

/**
 * The `blog` module factory: the Post aggregate (a pure decider the kernel's
 * Aggregate Durable Object runs), its routes under `/api/v1/blog`, and the
 * projection that keeps `blog_posts` in D1.
 */
export const blog = () =>
  ({
    ...manifest,
    errors: blogErrors,
    tables: { blogPosts },
    routes: blogRoutes,
    aggregates: [{ decider: postDecider, snapshot_every: 50 }],
    events: { publishes: PostEventSchema, subscribes: [postProjection] },
    personal_data: blogPersonalData,
  }) satisfies ModuleDef;
