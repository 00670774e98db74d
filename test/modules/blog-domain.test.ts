import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DecideContext, fold } from "../../src/kernel/events/decider";
import { given } from "../../src/kernel/events/decider-spec";
import {
  isAuthor,
  type PostCommand,
  PostCommandSchema,
  type PostEvent,
  PostEventSchema,
  type PostState,
  postDecider,
} from "../../src/modules/blog/domain";
import { blogErrors } from "../../src/modules/blog/errors";

const initialPostState = postDecider.initialState;
type PostStatus = PostState["status"];

const T0 = "2026-03-01T09:00:00.000Z";
const T1 = "2026-03-01T10:00:00.000Z";
const T2 = "2026-03-01T11:00:00.000Z";
const at = (now: string): DecideContext => ({ now, actor: { kind: "user", id: "u_ada" } });

const created: PostEvent = {
  type: "blog.post.created",
  data: { id: "p1", title: "Hello", content: "First words", author_id: "u_ada", created_at: T0 },
};
const published: PostEvent = {
  type: "blog.post.published",
  data: { published_at: T1, title: "Hello", author_id: "u_ada" },
};
/** A `blog.post.published` stored before it carried the title and author: history that must still replay. */
const publishedThin = { type: "blog.post.published", data: { published_at: T1 } } as const;
const T3 = "2026-03-01T12:00:00.000Z";
const deleted: PostEvent = { type: "blog.post.deleted", data: { deleted_at: T3 } };
/** The state `deleted` leaves after `created` and `published`: no title or text, dated by the deletion. */
const TOMBSTONE = {
  status: "deleted",
  id: "p1",
  title: "",
  content: "",
  author_id: "u_ada",
  created_at: T0,
  updated_at: T3,
  published_at: T1,
};
/** A `blog.post.deleted` stored before it carried its time: history that must still replay. */
const deletedThin: PostEvent = { type: "blog.post.deleted", data: {} };
const create: PostCommand = { type: "create", id: "p1", title: "Hello", content: "First words", author_id: "u_ada" };

describe("create", () => {
  it("opens a draft, with the schema's trimmed title and the context's time", () => {
    const command = PostCommandSchema.parse({ ...create, title: "  Hello  " });
    const { state } = given(postDecider, []).when(command, at(T0)).then([created]);
    expect(state).toEqual({ ...created.data, status: "draft", updated_at: T0, published_at: null });
  });

  it("rejects a second create with post_exists", () => {
    given(postDecider, [created]).when(create).thenError("post_exists");
    given(postDecider, [created, published]).when(create).thenError("post_exists");
  });

  it("rejects a create on a deleted post with not_found", () => {
    given(postDecider, [created, deleted]).when(create).thenError("not_found");
  });
});

describe("update", () => {
  it("emits only the fields that changed", () => {
    given(postDecider, [created])
      .when({ type: "update", title: "Hi", content: "First words" }, at(T1))
      .then([{ type: "blog.post.updated", data: { title: "Hi", updated_at: T1 } }]);
    given(postDecider, [created])
      .when({ type: "update", title: "Hi", content: "More" }, at(T1))
      .then([{ type: "blog.post.updated", data: { title: "Hi", content: "More", updated_at: T1 } }]);
  });

  it("emits no event when nothing changes", () => {
    const { state } = given(postDecider, [created]).when({ type: "update", title: "Hello" }, at(T1)).then([]);
    expect(state).toEqual(fold(postDecider, [created]));
    given(postDecider, [created]).when({ type: "update", title: "Hello", content: "First words" }).then([]);
  });

  it("rejects an update with no fields with post_update_empty", () => {
    const error = given(postDecider, [created]).when({ type: "update" }).thenError("post_update_empty");
    expect(blogErrors.post_update_empty.status).toBe(400);
    expect(error.message).toMatch(/title or content/);
  });

  it("edits a published post, which stays published", () => {
    const { state } = given(postDecider, [created, published])
      .when({ type: "update", content: "" }, at(T2))
      .then([{ type: "blog.post.updated", data: { content: "", updated_at: T2 } }]);
    expect(state).toMatchObject({ status: "published", content: "", updated_at: T2, published_at: T1 });
  });

  it("rejects an update of a deleted or never-created post with not_found", () => {
    given(postDecider, [created, deleted]).when({ type: "update", title: "Back" }).thenError("not_found");
    given(postDecider, []).when({ type: "update", title: "Ghost" }).thenError("not_found");
    given(postDecider, []).when({ type: "update" }).thenError("not_found");
  });
});

describe("publish", () => {
  it("publishes a draft at the context's time", () => {
    const { state } = given(postDecider, [created]).when({ type: "publish" }, at(T1)).then([published]);
    expect(state).toMatchObject({ status: "published", published_at: T1, updated_at: T1 });
  });

  it("carries the title and author as of publishing, so a subscriber needs no read of the writer", () => {
    const edited: PostEvent = { type: "blog.post.updated", data: { title: "Hello again", updated_at: T1 } };
    given(postDecider, [created, edited])
      .when({ type: "publish" }, at(T2))
      .then([{ type: "blog.post.published", data: { published_at: T2, title: "Hello again", author_id: "u_ada" } }]);
  });

  it("still reads a stored published event from before it carried them, to the same state", () => {
    const old = PostEventSchema.parse(publishedThin);
    expect(old.data).toEqual({ published_at: T1 });
    expect(fold(postDecider, [created, old])).toEqual(fold(postDecider, [created, published]));
    given(postDecider, [created, old]).when({ type: "publish" }).thenError("post_already_published");
  });

  it("rejects publishing twice with post_already_published", () => {
    given(postDecider, [created, published]).when({ type: "publish" }).thenError("post_already_published");
  });

  it("rejects publishing a deleted or never-created post with not_found", () => {
    given(postDecider, [created, deleted]).when({ type: "publish" }).thenError("not_found");
    given(postDecider, [created, published, deleted]).when({ type: "publish" }).thenError("not_found");
    given(postDecider, []).when({ type: "publish" }).thenError("not_found");
  });
});

describe("delete", () => {
  it("deletes a draft or a published post", () => {
    given(postDecider, [created]).when({ type: "delete" }, at(T3)).then([deleted]);
    expect(given(postDecider, [created, published]).when({ type: "delete" }, at(T3)).then([deleted]).state.status).toBe(
      "deleted",
    );
  });

  it("leaves a tombstone without title or text, dated by the deletion", () => {
    const { state } = given(postDecider, [created, published]).when({ type: "delete" }, at(T3)).then([deleted]);
    expect(state).toEqual(TOMBSTONE);
    // A deletion stored without its time still blanks the text; the state keeps the last change's time.
    expect(fold(postDecider, [created, published, deletedThin])).toMatchObject({
      title: "",
      content: "",
      updated_at: T1,
    });
  });

  it("rejects deleting twice, or a never-created post, with not_found", () => {
    given(postDecider, [created, deleted]).when({ type: "delete" }).thenError("not_found");
    given(postDecider, []).when({ type: "delete" }).thenError("not_found");
  });
});

describe("command schema", () => {
  const ok = (input: unknown) => PostCommandSchema.safeParse(input).success;

  it("bounds the title after trimming, and the content", () => {
    expect(ok({ ...create, title: "" })).toBe(false);
    expect(ok({ ...create, title: "   " })).toBe(false);
    expect(ok({ ...create, title: `  ${"t".repeat(200)}  ` })).toBe(true);
    expect(ok({ ...create, title: "t".repeat(201) })).toBe(false);
    expect(ok({ ...create, content: "c".repeat(100_000) })).toBe(true);
    expect(ok({ ...create, content: "c".repeat(100_001) })).toBe(false);
    expect(ok({ type: "update", title: " " })).toBe(false);
  });

  it("keeps a title to one line people can read, and lets content hold what text holds", () => {
    for (const title of [
      "a\u0000b",
      "line\nbreak",
      "tab\there",
      "sep\u2028arated",
      "Eve\u202Enimda",
      "\u2066isolate\u2069",
    ]) {
      expect(ok({ ...create, title }), JSON.stringify(title)).toBe(false);
      expect(ok({ type: "update", title }), JSON.stringify(title)).toBe(false);
    }
    expect(ok({ ...create, title: "Grüße 👩‍💻 مرحبا" })).toBe(true);
    expect(ok({ ...create, content: "para one\n\n\tindented\r\n" })).toBe(true);
  });

  it("refuses unknown commands and fields, but lets an empty update through to the decider", () => {
    expect(ok({ type: "archive" })).toBe(false);
    expect(ok({ type: "update", status: "published" })).toBe(false);
    expect(ok({ type: "create", id: "p1", title: "t", content: "" })).toBe(false);
    expect(ok({ type: "update" })).toBe(true);
  });
});

describe("evolve", () => {
  it("follows the full lifecycle", () => {
    const edited: PostEvent = { type: "blog.post.updated", data: { title: "Hello again", updated_at: T2 } };
    const history = [created, edited, published, deleted];
    const states = history.map((_, i) => fold(postDecider, history.slice(0, i + 1)));
    expect(states.map((s) => s.status)).toEqual(["draft", "draft", "published", "deleted"]);
    expect(states[1]).toMatchObject({ title: "Hello again", content: "First words", updated_at: T2 });
    expect(states[3]).toEqual(TOMBSTONE);
  });
});

describe("isAuthor", () => {
  it("is true only for the author of a live post", () => {
    expect(isAuthor(fold(postDecider, [created]), "u_ada")).toBe(true);
    expect(isAuthor(fold(postDecider, [created, published]), "u_ada")).toBe(true);
    expect(isAuthor(fold(postDecider, [created]), "u_bob")).toBe(false);
    expect(isAuthor(fold(postDecider, [created]), null)).toBe(false);
    expect(isAuthor(fold(postDecider, [created, deleted]), "u_ada")).toBe(false);
    expect(isAuthor(initialPostState, null)).toBe(false);
  });
});

describe("error codes", () => {
  it("declares each rule's code with its status", () => {
    const statuses = Object.fromEntries(Object.entries(blogErrors).map(([code, spec]) => [code, spec.status]));
    expect(statuses).toEqual({
      post_exists: 409,
      post_already_published: 409,
      post_update_empty: 400,
    });
  });
});

// Commands of the right type, but values the schema may refuse: the decider must survive both.
const text = fc.oneof(
  { arbitrary: fc.constantFrom("", " ", "Hello", "First words", "  Hello  "), weight: 4 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
);
const commandArb: fc.Arbitrary<PostCommand> = fc.oneof(
  fc.record({
    type: fc.constant("create" as const),
    id: fc.constantFrom("p1", "p2", ""),
    title: text,
    content: text,
    author_id: fc.constantFrom("u_ada", "u_bob"),
  }),
  fc.record({ type: fc.constant("update" as const), title: text, content: text }, { requiredKeys: ["type"] }),
  fc.constant({ type: "publish" as const }),
  fc.constant({ type: "delete" as const }),
);
const nowArb = fc
  .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString());

const NEXT: Record<PostStatus, PostStatus[]> = {
  none: ["none", "draft"],
  draft: ["draft", "published", "deleted"],
  published: ["published", "deleted"],
  deleted: ["deleted"],
};

const EVERY_COMMAND: PostCommand[] = [create, { type: "update", title: "x" }, { type: "publish" }, { type: "delete" }];

describe("any sequence of commands", () => {
  it("never throws, and keeps the lifecycle's invariants", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(commandArb, nowArb), { maxLength: 25 }), (steps) => {
        let state: PostState = initialPostState;
        const history: PostEvent[] = [];
        for (const [raw, now] of steps) {
          // Unparsed commands must not crash the decider; only parsed ones move the stream.
          postDecider.decide(raw, state, at(now));
          const parsed = PostCommandSchema.safeParse(raw);
          if (!parsed.success) continue;
          const decision = postDecider.decide(parsed.data, state, at(now));
          if (!decision.ok) {
            expect([...Object.keys(blogErrors), "not_found"]).toContain(decision.error.code);
            continue;
          }
          expect(state.status).not.toBe("deleted");
          expect(decision.events.length).toBeLessThanOrEqual(1);
          for (const event of decision.events) expect(PostEventSchema.safeParse(event).success).toBe(true);
          if (decision.events.length === 0) expect(parsed.data.type).toBe("update");
          const next = fold(postDecider, decision.events, state);
          expect(NEXT[state.status]).toContain(next.status);
          if (state.status !== "none") {
            expect([next.id, next.author_id, next.created_at]).toEqual([state.id, state.author_id, state.created_at]);
          }
          if (state.published_at !== null) expect(next.published_at).toBe(state.published_at);
          if (next.status === "published") expect(next.published_at).not.toBeNull();
          if (next.status === "none" || next.status === "draft") expect(next.published_at).toBeNull();
          history.push(...decision.events);
          state = next;
        }
        // Replaying the stream gives the same state: the version is the event count.
        expect(fold(postDecider, history)).toEqual(state);
        expect(isAuthor(state, state.author_id)).toBe(state.status === "draft" || state.status === "published");
        if (state.status === "deleted") {
          for (const command of EVERY_COMMAND) {
            expect(postDecider.decide(command, state, at(T2))).toMatchObject({ error: { code: "not_found" } });
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
