import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { PERMISSIONS, type Permission } from "../../generated/permissions";
import { principalOf, tenantOf } from "../../kernel/auth/guards";
import { dispatch } from "../../kernel/cqrs/command-bus";
import { query } from "../../kernel/cqrs/query-bus";
import { newId } from "../../kernel/crypto";
import type { AppEnv } from "../../kernel/env";
import { AppError } from "../../kernel/errors";
import { aggregateOf } from "../../kernel/events/aggregate-rpc";
import { loadRow } from "../../kernel/events/projection";
import {
  ETAG_HEADER,
  IdPageQuery,
  IdParam,
  IfMatchHeader,
  ifMatch,
  jsonBody,
  jsonResponse,
  LOCATION_HEADER,
  listOf,
  page,
} from "../../kernel/openapi/blocks";
import { operations } from "../../kernel/openapi/operation";
import { createRouter, problem } from "../../kernel/openapi/router";
import { readModels } from "../../kernel/read-models";
import {
  isAuthor,
  type PostCommand,
  PostContentSchema,
  type PostState,
  PostStateSchema,
  PostTitleSchema,
  postDecider,
} from "./domain";
import { blogErrors } from "./errors";
import { postRows } from "./projection";
import { listPosts } from "./read-model";

/** A post as the contract shows it. */
const PostSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    content: z.string(),
    status: z.enum(["draft", "published"]),
    author_id: z.string(),
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Post");

/** The view of a post's state at a version: null unless it is a live (draft or published) post. */
function view(state: PostState, version: number): z.infer<typeof PostSchema> | null {
  const post = PostSchema.safeParse({ ...state, version });
  return post.success ? post.data : null;
}

const notFound = () => new AppError("not_found", { detail: "no such post" });
const PostBody = z.object({ title: PostTitleSchema, content: PostContentSchema });

/** Runs a post command through the bus; the author may act without the permission while they may still write posts. */
const command = (c: Context<AppEnv>, id: string, cmd: PostCommand, permission: Permission) =>
  dispatch(c, {
    decider: postDecider,
    id,
    command: cmd,
    expectedVersion: cmd.type === "create" ? undefined : ifMatch(c),
    permission,
    ownership:
      cmd.type === "create" ? undefined : { requires: PERMISSIONS.blog.post.create, owns: (s, p) => isAuthor(s, p.id) },
    errors: blogErrors,
  });

/** The post a command left, as the contract shows it. */
function shown({ version, state }: { version: number; state: PostState }) {
  const post = view(state, version);
  if (!post) throw notFound();
  return post;
}

const op = operations(["blog"]);
const writes = {
  200: jsonResponse("the post", PostSchema, ETAG_HEADER),
  404: problem("no such post"),
  412: problem("If-Match names another version"),
};

const create = op.post("/posts", {
  operationId: "createPost",
  summary: "Create a draft post",
  access: "principal",
  request: { body: jsonBody(PostBody) },
  responses: {
    201: jsonResponse("the new draft (version 1)", PostSchema, { ...ETAG_HEADER, ...LOCATION_HEADER }),
    403: problem("missing blog.post.create"),
  },
});
const list = op.get("/posts", {
  operationId: "listPosts",
  summary: "List posts, newest first (eventually consistent)",
  access: PERMISSIONS.blog.post.read,
  request: {
    query: IdPageQuery.extend({
      status: z.enum(["draft", "published"]).optional(),
      author_id: z.string().max(64).optional(),
    }),
  },
  responses: { 200: jsonResponse("a page of posts", listOf(PostSchema)) },
});
const get = op.get("/posts/{id}", {
  operationId: "getPost",
  summary: "One post; ?consistency=strong reads the writer",
  access: PERMISSIONS.blog.post.read,
  request: { params: IdParam, query: z.object({ consistency: z.enum(["eventual", "strong"]).default("eventual") }) },
  responses: { 200: jsonResponse("the post", PostSchema, ETAG_HEADER), 404: problem("no such post") },
});
const update = op.patch("/posts/{id}", {
  operationId: "updatePost",
  summary: "Change title or content (author, or blog.post.update); honours If-Match",
  access: "principal",
  request: { params: IdParam, headers: IfMatchHeader, body: jsonBody(PostBody.partial()) },
  responses: writes,
});
const publish = op.post("/posts/{id}/publish", {
  operationId: "publishPost",
  summary: "Publish a draft (author, or blog.post.publish); honours If-Match",
  access: "principal",
  request: { params: IdParam, headers: IfMatchHeader },
  responses: { 200: writes[200], 404: writes[404], 409: problem("already published"), 412: writes[412] },
});
const remove = op.delete("/posts/{id}", {
  operationId: "deletePost",
  summary: "Delete a post (author, or blog.post.delete); honours If-Match",
  access: "principal",
  request: { params: IdParam, headers: IfMatchHeader },
  responses: { 204: { description: "deleted", headers: ETAG_HEADER }, 404: writes[404], 412: writes[412] },
});

/** `/api/v1/blog/posts`. */
export const blogRoutes = createRouter()
  .openapi(create, async (c) => {
    const id = newId(c.get("clock").now().getTime());
    const author_id = principalOf(c, "user", "api_key").id;
    const post = shown(
      await command(c, id, { type: "create", id, author_id, ...c.req.valid("json") }, PERMISSIONS.blog.post.create),
    );
    c.header("Location", `/api/v1/blog/posts/${id}`);
    return c.json(post, 201);
  })
  .openapi(list, async (c) => {
    const { limit, cursor, status, author_id } = c.req.valid("query");
    const rows = await query(c, {
      name: "blog.post.list",
      consistency: "eventual",
      eventual: () =>
        listPosts(readModels(c.env), {
          tenantId: tenantOf(c).id,
          status,
          authorId: author_id,
          cursor,
          limit: limit + 1,
        }),
    });
    const posts = rows.flatMap((r) => view(PostStateSchema.parse(r), r.version) ?? []);
    return c.json(
      page(posts, limit, (p) => p.id),
      200,
    );
  })
  .openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const tenantId = tenantOf(c).id;
    const post = await query(c, {
      name: "blog.post.get",
      consistency: c.req.valid("query").consistency,
      strong: async () => {
        const { version, state } = await aggregateOf(c.env, postDecider, tenantId, id).state();
        return view(state, version);
      },
      eventual: async () => {
        const row = await loadRow(postRows, c.env, { tenantId, id });
        return row && view(row.state, row.version);
      },
    });
    if (!post) throw notFound();
    c.header("ETag", `"${post.version}"`);
    return c.json(post, 200);
  })
  .openapi(update, async (c) => {
    const id = c.req.valid("param").id;
    return c.json(
      shown(await command(c, id, { type: "update", ...c.req.valid("json") }, PERMISSIONS.blog.post.update)),
      200,
    );
  })
  .openapi(publish, async (c) =>
    c.json(shown(await command(c, c.req.valid("param").id, { type: "publish" }, PERMISSIONS.blog.post.publish)), 200),
  )
  .openapi(remove, async (c) => {
    await command(c, c.req.valid("param").id, { type: "delete" }, PERMISSIONS.blog.post.delete);
    return c.body(null, 204);
  });
