import type { ModuleDef } from "../../kernel/modules/types";
import { postDecider } from "./domain";
import { manifest, publishes } from "./manifest";
import { projectPost } from "./projection";
import { blogRoutes } from "./routes";

/**
 * The `blog` module factory: the Post aggregate (a pure decider the kernel's
 * Aggregate Durable Object runs), its routes under `/api/v1/blog`, and the
 * projection that keeps `blog_posts` in D1.
 */
export const blog = () =>
  ({
    ...manifest,
    routes: blogRoutes,
    aggregates: [{ decider: postDecider, snapshot_every: 50 }],
    events: {
      publishes,
      subscribes: Object.fromEntries(publishes.map((type) => [type, projectPost])),
    },
  }) satisfies ModuleDef;
