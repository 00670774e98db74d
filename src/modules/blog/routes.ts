import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, lt, ne } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { Context } from "hono";
import { PERMISSIONS, type Permission } from "../../generated/permissions";
import { principalOf, requirePermission, requirePrincipal, tenantOf } from "../../kernel/auth/guards";
import type { Principal } from "../../kernel/auth/types";
import { dispatch, ifMatch, readAggregate } from "../../kernel/cqrs/command-bus";
import { query } from "../../kernel/cqrs/query-bus";
import { newId } from "../../kernel/crypto";
import type { AppEnv } from "../../kernel/env";
import { AppError } from "../../kernel/errors";
import { createRouter, problem } from "../../kernel/openapi/router";
import { IdParam, jsonBody, jsonResponse, listOf, PageQuery } from "../identity/schemas";
import { isAuthor, type PostCommand, PostContentSchema, type PostState, PostTitleSchema, postDecider } from "./domain";
import { blogErrors } from "./errors";
import { blogPosts } from "./read-model";
import { fromRow, fromState, PostSchema, type PostView } from "./views";

const tags = ["blog"];
const security = [{ bearer: [] }];
const ifMatchHeader = z.object({ "if-match": z.string().optional() });
const notFound = () => new AppError("not_found", { detail: "no such post" });

/** The author rule: the author may act without the permission. A missing post is left to the decider (404). */
const authorRule = (state: PostState, principal: Principal) =>
  state.status === "none" || state.status === "deleted" || isAuthor(state, principal.id);

/** Runs a post command and answers with the post and its ETag. */
async function command(
  c: Context<AppEnv>,
  id: string,
  cmd: PostCommand,
  permission: Permission,
  options: { conditional: boolean },
): Promise<PostView | null> {
  const { version, state } = await dispatch(c, {
    decider: postDecider,
    id,
    command: cmd,
    expectedVersion: options.conditional ? ifMatch(c) : undefined,
    permission,
    // The contract's member rule: authorship counts while the author may still write posts.
    ownership: cmd.type === "create" ? undefined : { requires: PERMISSIONS.blog.post.create, owns: authorRule },
    errors: blogErrors,
  });
  c.header("ETag", `"${version}"`);
  return fromState(state, version);
}

const create = createRoute({
  method: "post",
  path: "/posts",
  operationId: "createPost",
  summary: "Create a draft post",
  tags,
  security,
  middleware: [requirePrincipal()] as const,
  request: { body: jsonBody(z.object({ title: PostTitleSchema, content: PostContentSchema })) },
  responses: { 201: jsonResponse("the new draft (version 1)", PostSchema), 403: problem("missing blog.post.create") },
});

const list = createRoute({
  method: "get",
  path: "/posts",
  operationId: "listPosts",
  summary: "List posts, newest first (eventually consistent)",
  tags,
  security,
  middleware: [requirePermission(PERMISSIONS.blog.post.read)] as const,
  request: {
    query: PageQuery.extend({
      status: z.enum(["draft", "published"]).optional(),
      author_id: z.string().max(64).optional(),
    }),
  },
  responses: { 200: jsonResponse("a page of posts", listOf(PostSchema)) },
});

const get = createRoute({
  method: "get",
  path: "/posts/{id}",
  operationId: "getPost",
  summary: "One post; ?consistency=strong reads the writer",
  tags,
  security,
  middleware: [requirePermission(PERMISSIONS.blog.post.read)] as const,
  request: { params: IdParam, query: z.object({ consistency: z.enum(["eventual", "strong"]).default("eventual") }) },
  responses: { 200: jsonResponse("the post", PostSchema), 404: problem("no such post") },
});

const update = createRoute({
  method: "patch",
  path: "/posts/{id}",
  operationId: "updatePost",
  summary: "Change title or content (author, or blog.post.update); honours If-Match",
  tags,
  security,
  middleware: [requirePrincipal()] as const,
  request: {
    params: IdParam,
    headers: ifMatchHeader,
    body: jsonBody(z.object({ title: PostTitleSchema.optional(), content: PostContentSchema.optional() })),
  },
  responses: {
    200: jsonResponse("the updated post", PostSchema),
    404: problem("no such post"),
    412: problem("If-Match does not name the current version"),
  },
});

const publish = createRoute({
  method: "post",
  path: "/posts/{id}/publish",
  operationId: "publishPost",
  summary: "Publish a draft (author, or blog.post.publish); honours If-Match",
  tags,
  security,
  middleware: [requirePrincipal()] as const,
  request: { params: IdParam, headers: ifMatchHeader },
  responses: {
    200: jsonResponse("the published post", PostSchema),
    404: problem("no such post"),
    409: problem("already published"),
    412: problem("If-Match does not name the current version"),
  },
});

const remove = createRoute({
  method: "delete",
  path: "/posts/{id}",
  operationId: "deletePost",
  summary: "Delete a post (author, or blog.post.delete); honours If-Match",
  tags,
  security,
  middleware: [requirePrincipal()] as const,
  request: { params: IdParam, headers: ifMatchHeader },
  responses: { 204: { description: "deleted" }, 404: problem("no such post"), 412: problem("stale If-Match") },
});

/** `/api/v1/blog/posts`. */
export const blogRoutes = createRouter()
  .openapi(create, async (c) => {
    const principal = principalOf(c, "user", "api_key");
    const { title, content } = c.req.valid("json");
    const id = newId();
    const post = await command(
      c,
      id,
      { type: "create", id, title, content, author_id: principal.id },
      PERMISSIONS.blog.post.create,
      {
        conditional: false,
      },
    );
    if (!post) throw new AppError("internal", { cause: new Error("created post has no view") });
    return c.json(post, 201);
  })
  .openapi(list, async (c) => {
    const { limit, cursor, status, author_id } = c.req.valid("query");
    const rows = await query(c, {
      name: "blog.post.list",
      consistency: "eventual",
      eventual: () =>
        drizzle(c.env.DB)
          .select()
          .from(blogPosts)
          .where(
            and(
              eq(blogPosts.tenantId, tenantOf(c).id),
              status ? eq(blogPosts.status, status) : ne(blogPosts.status, "deleted"),
              author_id ? eq(blogPosts.authorId, author_id) : undefined,
              cursor ? lt(blogPosts.id, cursor) : undefined,
            ),
          )
          .orderBy(desc(blogPosts.id))
          .limit(limit + 1),
    });
    const items = rows.slice(0, limit).map(fromRow);
    return c.json({ items, next_cursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null }, 200);
  })
  .openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const tenant = tenantOf(c);
    const post = await query<PostView | null>(c, {
      name: "blog.post.get",
      consistency: c.req.valid("query").consistency,
      strong: async () => {
        const { version, state } = await readAggregate<PostState>(c.env, tenant.id, postDecider.type, id);
        return fromState(state, version);
      },
      eventual: async () => {
        const row = await drizzle(c.env.DB)
          .select()
          .from(blogPosts)
          .where(and(eq(blogPosts.tenantId, tenant.id), eq(blogPosts.id, id), ne(blogPosts.status, "deleted")))
          .get();
        return row ? fromRow(row) : null;
      },
    });
    if (!post) throw notFound();
    c.header("ETag", `"${post.version}"`);
    return c.json(post, 200);
  })
  .openapi(update, async (c) => {
    const { id } = c.req.valid("param");
    const post = await command(c, id, { type: "update", ...c.req.valid("json") }, PERMISSIONS.blog.post.update, {
      conditional: true,
    });
    if (!post) throw notFound();
    return c.json(post, 200);
  })
  .openapi(publish, async (c) => {
    const { id } = c.req.valid("param");
    const post = await command(c, id, { type: "publish" }, PERMISSIONS.blog.post.publish, { conditional: true });
    if (!post) throw notFound();
    return c.json(post, 200);
  })
  .openapi(remove, async (c) => {
    const { id } = c.req.valid("param");
    await command(c, id, { type: "delete" }, PERMISSIONS.blog.post.delete, { conditional: true });
    return c.body(null, 204);
  });
