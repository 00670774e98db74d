/**
 * The Post aggregate, as a pure decider: commands, events, state, and the
 * rules between them. No Workers, Hono or drizzle imports: the Aggregate DO
 * stores the events, checks If-Match and bumps versions; the command bus
 * checks who may act (see {@link isAuthor}). Deleted posts are gone for
 * clients: every command on one answers `not_found`, as for a post that
 * never existed, and the stream is never reopened.
 */
import { z } from "zod";
import { accept, type DecideContext, type Decider, type Decision, reject } from "../../kernel/events/decider";
import type { BlogErrorCode } from "./errors";

/** Longest title, after trimming. */
export const POST_TITLE_MAX = 200;
/** Longest content. */
export const POST_CONTENT_MAX = 100_000;

/** A title: trimmed, then 1–200 characters (UTF-16 code units, as zod counts them). Reuse it in route bodies. */
export const PostTitleSchema = z.string().trim().min(1).max(POST_TITLE_MAX);
/** Post content: at most 100 000 characters; may be empty. Reuse it in route bodies. */
export const PostContentSchema = z.string().max(POST_CONTENT_MAX);
/** An opaque id (the post's, or its author's). */
export const PostIdSchema = z.string().min(1).max(200);

/** Create a post; the route generates `id`, and `author_id` is the principal's id. */
export const CreatePostSchema = z.strictObject({
  type: z.literal("create"),
  id: PostIdSchema,
  title: PostTitleSchema,
  content: PostContentSchema,
  author_id: PostIdSchema,
});
/** Change title and/or content; at least one must be given (else `post_update_empty`). */
export const UpdatePostSchema = z.strictObject({
  type: z.literal("update"),
  title: PostTitleSchema.optional(),
  content: PostContentSchema.optional(),
});
/** Publish a draft. */
export const PublishPostSchema = z.strictObject({ type: z.literal("publish") });
/** Delete a post, published or not. */
export const DeletePostSchema = z.strictObject({ type: z.literal("delete") });

/** Every Post command, discriminated by `type`; parse DO RPC arguments with it. */
export const PostCommandSchema = z.discriminatedUnion("type", [
  CreatePostSchema,
  UpdatePostSchema,
  PublishPostSchema,
  DeletePostSchema,
]);
/** A parsed Post command. */
export type PostCommand = z.infer<typeof PostCommandSchema>;

// Stored events are history: they are parsed leniently (no length limits), so
// tightening a command rule later never makes an existing stream unreadable.
const Timestamp = z.iso.datetime({ offset: true });

/** A post was created as a draft. */
export const PostCreatedSchema = z.object({
  type: z.literal("blog.post.created"),
  data: z.object({
    id: z.string(),
    title: z.string(),
    content: z.string(),
    author_id: z.string(),
    created_at: Timestamp,
  }),
});
/** Title and/or content changed; only the fields that changed are present. */
export const PostUpdatedSchema = z.object({
  type: z.literal("blog.post.updated"),
  data: z.object({ title: z.string().optional(), content: z.string().optional(), updated_at: Timestamp }),
});
/** A draft was published; `published_at` is also the post's new `updated_at`. */
export const PostPublishedSchema = z.object({
  type: z.literal("blog.post.published"),
  data: z.object({ published_at: Timestamp }),
});
/** A post was deleted; the envelope's `occurred_at` says when. */
export const PostDeletedSchema = z.object({
  type: z.literal("blog.post.deleted"),
  data: z.object({}),
});

/** Every Post event, discriminated by `type`; parse stored events with it. */
export const PostEventSchema = z.discriminatedUnion("type", [
  PostCreatedSchema,
  PostUpdatedSchema,
  PostPublishedSchema,
  PostDeletedSchema,
]);
/** A Post event as the decider emits it (without the DomainEvent envelope). */
export type PostEvent = z.infer<typeof PostEventSchema>;
/** The type of a Post event. */
export type PostEventType = PostEvent["type"];
/** The event types the blog module publishes, for its manifest. */
export const POST_EVENT_TYPES = [
  "blog.post.created",
  "blog.post.updated",
  "blog.post.published",
  "blog.post.deleted",
] as const satisfies readonly PostEventType[];

/** Where a post is in its life: none → draft → published, and draft|published → deleted. */
export type PostStatus = "none" | "draft" | "published" | "deleted";

/** The state of one post stream. Before creation every field is null, or "" for text. */
export type PostState = {
  status: PostStatus;
  id: string | null;
  title: string;
  content: string;
  author_id: string | null;
  created_at: string | null;
  updated_at: string | null;
  published_at: string | null;
};

/** The state of a stream with no events. Frozen: `evolve` always returns a new object. */
export const initialPostState: PostState = Object.freeze({
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
const notFound = () => fail("not_found", "the post does not exist");

/**
 * Decides a Post command. Rules, in order: a deleted post rejects everything
 * with `not_found`; `create` needs a new stream (`post_exists`); every
 * other command needs a created post (`not_found`); `update` needs a
 * field (`post_update_empty`); `publish` needs a draft (`post_already_published`).
 *
 * @example
 * const decision = decide({ type: "publish" }, state, { now, actor });
 */
export function decide(command: PostCommand, state: PostState, ctx: DecideContext): Decision<PostEvent> {
  if (state.status === "deleted") return notFound();
  switch (command.type) {
    case "create":
      if (state.status !== "none") return fail("post_exists", `post ${command.id} already exists`);
      return accept({
        type: "blog.post.created",
        data: {
          id: command.id,
          title: command.title,
          content: command.content,
          author_id: command.author_id,
          created_at: ctx.now,
        },
      });
    case "update": {
      if (state.status === "none") return notFound();
      if (command.title === undefined && command.content === undefined) {
        return fail("post_update_empty", "an update needs a title or content");
      }
      const changed: { title?: string; content?: string } = {};
      if (command.title !== undefined && command.title !== state.title) changed.title = command.title;
      if (command.content !== undefined && command.content !== state.content) changed.content = command.content;
      // An update that changes nothing is accepted with no event: the version
      // stays, and a client retrying a PATCH gets the same post back.
      if (changed.title === undefined && changed.content === undefined) return accept();
      return accept({ type: "blog.post.updated", data: { ...changed, updated_at: ctx.now } });
    }
    case "publish":
      if (state.status === "none") return notFound();
      if (state.status === "published") return fail("post_already_published", "the post is already published");
      return accept({ type: "blog.post.published", data: { published_at: ctx.now } });
    case "delete":
      if (state.status === "none") return notFound();
      return accept({ type: "blog.post.deleted", data: {} });
    default:
      // Unreachable for parsed commands; an unparsed one is refused, not thrown.
      return reject("validation_failed", "unknown post command");
  }
}

/**
 * Folds one Post event into the state, returning a new object. Events are
 * facts: they are applied as recorded, whatever the current status.
 *
 * @example
 * const state = events.reduce(evolve, initialPostState);
 */
export function evolve(state: PostState, event: PostEvent): PostState {
  switch (event.type) {
    case "blog.post.created":
      return {
        status: "draft",
        id: event.data.id,
        title: event.data.title,
        content: event.data.content,
        author_id: event.data.author_id,
        created_at: event.data.created_at,
        updated_at: event.data.created_at,
        published_at: null,
      };
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
      return { ...state, status: "deleted" };
    default:
      return state;
  }
}

/** The Post aggregate: streams are "<tenant>/post/<id>". */
export const postDecider: Decider<PostCommand, PostEvent, PostState> = {
  type: "post",
  commandSchema: PostCommandSchema,
  eventSchema: PostEventSchema,
  initialState: initialPostState,
  decide,
  evolve,
};

/**
 * Whether a principal wrote this post, for the command bus's "author, or the
 * permission" rule. False for a post that does not exist (or no longer does).
 *
 * @example
 * if (!isAuthor(state, principal.id) && !can("blog.post.update")) throw new AppError("forbidden");
 */
export function isAuthor(state: PostState, principalId: string | null): boolean {
  if (state.status !== "draft" && state.status !== "published") return false;
  return principalId !== null && state.author_id === principalId;
}
