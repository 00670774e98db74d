/**
 * The Post aggregate as a pure decider: commands, events, state and the rules
 * between them. No Workers, Hono or drizzle imports: the Aggregate DO stores
 * events and checks If-Match, the command bus checks who may act. A deleted
 * post is gone for clients (every command answers `not_found`, as for one
 * that never existed) and its stream is never reopened.
 */
import { z } from "zod";
import { accept, type DecideContext, type Decider, type Decision, reject } from "../../kernel/events/decider";
import { showable, UNSHOWABLE_MESSAGE } from "../../kernel/text/showable";
import type { BlogErrorCode } from "./errors";

/**
 * A title: trimmed, 1–200 characters, one line people can read (no control characters or
 * bidirectional overrides, as for names). Stored events keep `z.string()`: titles written
 * before this rule still replay. Reused by the route bodies.
 */
export const PostTitleSchema = z.string().trim().min(1).max(200).refine(showable, UNSHOWABLE_MESSAGE);
/** Content: at most 100 000 characters, may be empty. */
export const PostContentSchema = z.string().max(100_000);
const Id = z.string().min(1).max(200);

/** Every Post command, discriminated by `type`. `update` needs a title or content (else `post_update_empty`). */
export const PostCommandSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("create"),
    id: Id,
    title: PostTitleSchema,
    content: PostContentSchema,
    author_id: Id,
  }),
  z.strictObject({
    type: z.literal("update"),
    title: PostTitleSchema.optional(),
    content: PostContentSchema.optional(),
  }),
  z.strictObject({ type: z.literal("publish") }),
  z.strictObject({ type: z.literal("delete") }),
]);
export type PostCommand = z.infer<typeof PostCommandSchema>;

// Stored events are history: parsed leniently (no length limits), so tightening a
// command rule later never makes an existing stream unreadable.
const At = z.iso.datetime({ offset: true });

/**
 * Every Post event: the module's declaration of what it publishes. `updated` carries only what
 * changed. `published` also carries the title and author as of publishing, which a subscriber
 * (a "notify followers" module) needs and could otherwise only read as they are now; they are
 * optional because events stored before they were added lack them, and history must still parse.
 */
export const PostEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("blog.post.created"),
    data: z.object({ id: z.string(), title: z.string(), content: z.string(), author_id: z.string(), created_at: At }),
  }),
  z.object({
    type: z.literal("blog.post.updated"),
    data: z.object({ title: z.string().optional(), content: z.string().optional(), updated_at: At }),
  }),
  z.object({
    type: z.literal("blog.post.published"),
    data: z.object({ published_at: At, title: z.string().optional(), author_id: z.string().optional() }),
  }),
  // `deleted_at` dates the tombstone; deletions stored before it was added have empty data.
  z.object({ type: z.literal("blog.post.deleted"), data: z.object({ deleted_at: At.optional() }) }),
]);
export type PostEvent = z.infer<typeof PostEventSchema>;

/** One post: none → draft → published, and draft|published → deleted. Before creation, nulls and "". */
export const PostStateSchema = z.object({
  status: z.enum(["none", "draft", "published", "deleted"]),
  id: z.string().nullable(),
  title: z.string(),
  content: z.string(),
  author_id: z.string().nullable(),
  created_at: z.string().nullable(),
  updated_at: z.string().nullable(),
  published_at: z.string().nullable(),
});
export type PostState = z.infer<typeof PostStateSchema>;

const initialState: PostState = Object.freeze({
  status: "none",
  id: null,
  title: "",
  content: "",
  author_id: null,
  created_at: null,
  updated_at: null,
  published_at: null,
});

const fail = (code: BlogErrorCode, message: string) => reject(code, message);
// The wording of the routes' 404 (routes.ts): one answer for an unknown post, read or commanded.
const notFound = () => fail("not_found", "no such post");

/**
 * Rules, in order: a deleted post rejects everything (`not_found`); `create`
 * needs a new stream (`post_exists`); every other command a created post
 * (`not_found`); `update` a field; `publish` a draft (`post_already_published`).
 */
function decide(command: PostCommand, state: PostState, ctx: DecideContext): Decision<PostEvent> {
  if (state.status === "deleted") return notFound();
  if (command.type === "create") {
    if (state.status !== "none") return fail("post_exists", `post ${command.id} already exists`);
    const { type: _type, ...post } = command;
    return accept({ type: "blog.post.created", data: { ...post, created_at: ctx.now } });
  }
  if (state.status === "none") return notFound();
  switch (command.type) {
    case "update": {
      if (command.title === undefined && command.content === undefined) {
        return fail("post_update_empty", "an update needs a title or content");
      }
      const changed = {
        ...(command.title !== undefined && command.title !== state.title ? { title: command.title } : {}),
        ...(command.content !== undefined && command.content !== state.content ? { content: command.content } : {}),
      };
      // A change to nothing is accepted with no event: the version stays, and a retried PATCH gets the same post.
      if (Object.keys(changed).length === 0) return accept();
      return accept({ type: "blog.post.updated", data: { ...changed, updated_at: ctx.now } });
    }
    case "publish":
      if (state.status === "published") return fail("post_already_published", "the post is already published");
      return accept({
        type: "blog.post.published",
        data: { published_at: ctx.now, title: state.title, ...authorOf(state) },
      });
    case "delete":
      return accept({ type: "blog.post.deleted", data: { deleted_at: ctx.now } });
  }
}

// A created post always has its author; the state's null is only the "none" status's.
const authorOf = (state: PostState): { author_id: string } | Record<never, never> =>
  state.author_id === null ? {} : { author_id: state.author_id };

/** Folds one event into the state, returning a new object; events are facts, applied as recorded. */
function evolve(state: PostState, event: PostEvent): PostState {
  switch (event.type) {
    case "blog.post.created": {
      const { created_at, ...post } = event.data;
      return { ...post, status: "draft", created_at, updated_at: created_at, published_at: null };
    }
    case "blog.post.updated":
      return {
        ...state,
        title: event.data.title ?? state.title,
        content: event.data.content ?? state.content,
        updated_at: event.data.updated_at,
      };
    case "blog.post.published":
      return {
        ...state,
        status: "published",
        published_at: event.data.published_at,
        updated_at: event.data.published_at,
      };
    case "blog.post.deleted":
      // A tombstone: what the 404 and the version guard need, and when. The text is gone from the
      // state (so from the read model and the export); the stream's earlier events still hold it.
      return {
        ...state,
        status: "deleted",
        title: "",
        content: "",
        updated_at: event.data.deleted_at ?? state.updated_at,
      };
  }
}

/** The Post aggregate: streams are "<tenant>/post/<id>". */
export const postDecider = {
  type: "post",
  commandSchema: PostCommandSchema,
  eventSchema: PostEventSchema,
  stateSchema: PostStateSchema,
  initialState,
  decide,
  evolve,
} satisfies Decider<PostCommand, PostEvent, PostState>;

/** Whether `principalId` wrote this (live) post: the command bus's "author, or the permission" rule. */
export const isAuthor = (state: PostState, principalId: string | null): boolean =>
  (state.status === "draft" || state.status === "published") && principalId !== null && state.author_id === principalId;
