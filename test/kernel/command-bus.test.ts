// The command bus's steps against a stand-in aggregate namespace: what reaches the
// writer, and in which order validation and authorization refuse.
import { describe, expect, it } from "vitest";
import type { Principal } from "../../src/kernel/auth/types";
import { type CommandRequest, dispatch } from "../../src/kernel/cqrs/command-bus";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { ifMatch } from "../../src/kernel/openapi/blocks";
import { createRouter } from "../../src/kernel/openapi/router";
import { isAuthor, type PostCommand, type PostEvent, type PostState, postDecider } from "../../src/modules/blog/domain";
import { blogErrors } from "../../src/modules/blog/errors";
import { expectProblem, testApp } from "../helpers";

const TENANT = { id: "t-bus", slug: "bus", name: "Bus", plan: "free", status: "active" };
const user = (id: string, grants: string[]): Principal => ({
  kind: "user",
  id,
  tenantId: TENANT.id,
  roles: [],
  grants,
});

/** A stand-in for env.AGGREGATE: one post owned by `u-author` at `version` (7); records every handle call. */
function fakeAggregates(version = 7) {
  const handled: { expectedVersion?: number; command: unknown }[] = [];
  const authorizedAt: (number | undefined)[] = [];
  const state =
    version === 0
      ? postDecider.initialState
      : { ...postDecider.initialState, status: "draft", author_id: "u-author", title: "t", content: "c" };
  const stub = {
    state: async () => ({ version, state }),
    handle: async (input: { expectedVersion?: number; authorizedAt?: number; command: unknown }) => {
      handled.push({ expectedVersion: input.expectedVersion, command: input.command });
      authorizedAt.push(input.authorizedAt);
      return { ok: true, version: 8, state, events: 1 };
    },
  };
  return { namespace: { getByName: () => stub }, handled, authorizedAt };
}

type Rules = Pick<CommandRequest<PostCommand, PostEvent, PostState>, "permission" | "ownership" | "deny" | "errors">;

const authorRules: Rules = {
  permission: "blog.post.update",
  ownership: { requires: "blog.post.create", owns: (s, p) => isAuthor(s, p.id) },
  errors: blogErrors,
};

function busApp(principal: Principal, rules: Rules = authorRules, version = 7) {
  const fake = fakeAggregates(version);
  const routes = createRouter().patch("/posts/:id", async (c) => {
    c.set("tenant", TENANT as never);
    c.set("principal", principal);
    const result = await dispatch(c, {
      decider: postDecider,
      id: c.req.param("id"),
      command: await c.req.json(),
      expectedVersion: ifMatch(c),
      ...rules,
    });
    return c.json({ version: result.version });
  });
  const probe: ModuleDef = { name: "probe", version: "1.0.0", routes };
  const { fetch } = testApp([probe], { AGGREGATE: fake.namespace });
  const patch = (body: unknown, headers: Record<string, string> = {}) =>
    fetch("/api/v1/probe/posts/p1", {
      method: "PATCH",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  return { patch, handled: fake.handled, authorizedAt: fake.authorizedAt };
}

describe("command bus", () => {
  it("an owner allowed by the aggregate's state writes only at the version that state had", async () => {
    const { patch, handled } = busApp(user("u-author", ["blog.post.create"]));
    expect((await patch({ type: "update", title: "new" })).status).toBe(200);
    expect(handled).toEqual([{ expectedVersion: 7, command: { type: "update", title: "new" } }]);
  });

  it("a write authorized on an empty stream is pinned to it, even when If-Match did not match version 0", async () => {
    // The If-Match passed on unchanged (the aggregate answers the decider's refusal first at 0), so a
    // stream that reached that version meanwhile took a write whose ownership was read on nothing.
    // A rule weaker on the empty state: anyone who may create may act on a post that is not there.
    const weakerWhenEmpty: Rules = {
      permission: (s) => (s.status === postDecider.initialState.status ? "blog.post.create" : "blog.post.publish"),
      errors: blogErrors,
    };
    const { patch, handled, authorizedAt } = busApp(user("u-writer", ["blog.post.create"]), weakerWhenEmpty, 0);
    expect((await patch({ type: "update", title: "new" }, { "if-match": '"5"' })).status).toBe(200);
    expect(handled).toEqual([{ expectedVersion: 5, command: { type: "update", title: "new" } }]);
    expect(authorizedAt).toEqual([0]);
  });

  it("an owner's If-Match list is pinned to the version authorization read, and one not listing it is 412 unhandled", async () => {
    const { patch, handled } = busApp(user("u-author", ["blog.post.create"]));
    expect((await patch({ type: "update", title: "new" }, { "if-match": '"8", "7"' })).status).toBe(200);
    expect(handled).toEqual([{ expectedVersion: 7, command: { type: "update", title: "new" } }]);
    const stale = await expectProblem(
      await patch({ type: "update", title: "new" }, { "if-match": '"8", W/"7"' }),
      412,
      "version_conflict",
    );
    expect(stale.current_version).toBe(7);
    expect(handled).toHaveLength(1);
  });

  it("ownership counts only while the owner holds the rule's base permission", async () => {
    const { patch, handled } = busApp(user("u-author", ["blog.post.read"]));
    const body = await expectProblem(await patch({ type: "update", title: "new" }), 403, "forbidden");
    expect(body.detail).toBe("missing permission blog.post.update");
    expect(handled).toEqual([]);
  });

  it("a holder of the permission is not pinned to a version, unless it sends If-Match", async () => {
    const { patch, handled } = busApp(user("u-editor", ["blog.post.update"]));
    expect((await patch({ type: "update", title: "a" })).status).toBe(200);
    expect((await patch({ type: "update", title: "b" }, { "if-match": '"5"' })).status).toBe(200);
    expect(handled.map((h) => h.expectedVersion)).toEqual([undefined, 5]);
  });

  it("refuses a non-owner without the permission, naming it, and writes nothing", async () => {
    const { patch, handled } = busApp(user("u-other", ["blog.post.read"]));
    const body = await expectProblem(await patch({ type: "update", title: "x" }), 403, "forbidden");
    expect(body.detail).toBe("missing permission blog.post.update");
    expect(handled).toEqual([]);
  });

  it("validates before it authorizes: an invalid command is a 400 even for a caller who may not act", async () => {
    const { patch, handled } = busApp(user("u-other", []));
    await expectProblem(await patch({ type: "update", title: "" }), 400, "validation_failed");
    expect(handled).toEqual([]);
  });

  it("chooses the permission from the aggregate's state, and pins the write to that state's version", async () => {
    // The stand-in post has the title "t": short titles need publish rights in this made-up rule.
    const rules: Rules = {
      permission: (s) => (s.title.length < 3 ? "blog.post.publish" : "blog.post.update"),
      errors: blogErrors,
    };
    const editor = busApp(user("u-editor", ["blog.post.update"]), rules);
    const body = await expectProblem(await editor.patch({ type: "update", title: "x" }), 403, "forbidden");
    expect(body.detail).toBe("missing permission blog.post.publish");
    expect(editor.handled).toEqual([]);
    const publisher = busApp(user("u-pub", ["blog.post.publish"]), rules);
    expect((await publisher.patch({ type: "update", title: "x" })).status).toBe(200);
    expect(publisher.handled.map((h) => h.expectedVersion)).toEqual([7]);
  });

  it("a deny rule refuses even a holder of the permission, with the module's own code", async () => {
    const rules: Rules = {
      permission: "blog.post.update",
      deny: [
        {
          code: "own_post_edit",
          detail: "authors may not edit their own posts here",
          when: (s, p) => s.author_id === p.id,
        },
      ],
      errors: { ...blogErrors, own_post_edit: { status: 403, title: "Own post edit" } },
    };
    const author = busApp(user("u-author", ["blog.post.update"]), rules);
    const body = await expectProblem(await author.patch({ type: "update", title: "x" }), 403, "own_post_edit");
    expect(body.detail).toBe("authors may not edit their own posts here");
    expect(author.handled).toEqual([]);
    const other = busApp(user("u-other", ["blog.post.update"]), rules);
    expect((await other.patch({ type: "update", title: "x" })).status).toBe(200);
  });

  describe("a permission that is not a string (a PERMISSIONS constant used before npm run generate made it)", () => {
    /** The error dispatch throws for `rules`, as the route saw it (it is logged; the client gets a 500). */
    async function thrown(rules: Rules, principal = user("u-admin", ["*"])) {
      const fake = fakeAggregates();
      let caught: unknown;
      const routes = createRouter().patch("/posts/:id", async (c) => {
        c.set("tenant", TENANT as never);
        c.set("principal", principal);
        try {
          await dispatch(c, { decider: postDecider, id: "p1", command: await c.req.json(), ...rules });
        } catch (error) {
          caught = error;
        }
        return c.json({});
      });
      const { fetch } = testApp([{ name: "probe", version: "1.0.0", routes }], { AGGREGATE: fake.namespace });
      await fetch("/api/v1/probe/posts/p1", {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type: "update", title: "new" }),
      });
      expect(fake.handled).toEqual([]);
      return caught instanceof Error ? caught.message : String(caught);
    }
    const undefinedPermission = undefined as unknown as Rules["permission"];

    it("is refused naming the aggregate, the command and the generate step, not 'no state to choose from'", async () => {
      const message = await thrown({ permission: undefinedPermission, errors: blogErrors });
      expect(message).toContain("command post.update");
      expect(message).toContain("permission is undefined");
      expect(message).toContain("npm run generate");
    });

    it("the same when the state chose it, or when it is an ownership rule's base permission", async () => {
      const chosen = await thrown({ permission: () => undefinedPermission as never, errors: blogErrors });
      expect(chosen).toContain("permission chosen from the state is undefined");
      expect(chosen).toContain("npm run generate");
      const owned = await thrown({
        permission: "blog.post.update",
        ownership: { requires: undefinedPermission as never, owns: () => true },
        errors: blogErrors,
      });
      expect(owned).toContain("ownership.requires is undefined");
    });
  });
});
