import { describe, expect, it } from "vitest";
import { z } from "zod";
import { subscribe, subscribeAll } from "../../src/kernel/events/subscribe";
import { ModuleRegistryError, resolveModules } from "../../src/kernel/modules/registry";
import type { ModuleDef } from "../../src/kernel/modules/types";
import { operations } from "../../src/kernel/openapi/operation";
import { createRouter } from "../../src/kernel/openapi/router";
import { probeModule } from "../fixtures";
import { testApp } from "../helpers";

const mod = (name: string, version = "1.0.0", depends_on?: Record<string, string>, extra: Partial<ModuleDef> = {}) =>
  ({ name, version, depends_on, ...extra }) satisfies ModuleDef;

function problemsOf(defs: ModuleDef[]): string[] {
  try {
    resolveModules(defs);
  } catch (error) {
    expect(error).toBeInstanceOf(ModuleRegistryError);
    return (error as ModuleRegistryError).problems.map((p) => `${p.module}: ${p.problem}`);
  }
  throw new Error("expected the registry to refuse these modules");
}

describe("module registry", () => {
  it("refuses a duplicate name, naming the module", () => {
    expect(problemsOf([mod("blog"), mod("blog", "2.0.0")])).toEqual([
      "blog: is registered twice (module names must be unique)",
    ]);
  });

  it("keeps the env one namespace: module variables and bindings clash with nothing", () => {
    const n = z.string().optional();
    expect(
      problemsOf([
        mod("alpha", "1.0.0", undefined, { variables: { ALPHA_LIMIT: n, LOG_LEVEL: n, lower_case: n, FILES: n } }),
        mod("beta", "1.0.0", undefined, { variables: { ALPHA_LIMIT: n }, bindings: { FILES: "r2", DB: "kv" } }),
        mod("gamma", "1.0.0", undefined, { bindings: { FILES: "kv" } }),
      ]),
    ).toEqual([
      'beta: binding "DB" is a d1 binding of the kernel, not kv',
      'gamma: binding "FILES" is a r2 binding of module "beta", not kv',
      'alpha: variable "LOG_LEVEL" is the kernel\'s',
      "alpha: variable \"lower_case\" must be 1-64 chars of A-Z, 0-9 and '_', starting with a letter",
      'alpha: variable "FILES" is the name of a binding',
      'beta: variable "ALPHA_LIMIT" is already declared by module "alpha"',
    ]);
  });

  it("refuses a module binding named as a kernel variable: the config check would want an object and a string", () => {
    expect(problemsOf([mod("alpha", "1.0.0", undefined, { bindings: { LOG_LEVEL: "kv", ALPHA_KV: "kv" } })])).toEqual([
      'alpha: binding "LOG_LEVEL" is the name of a kernel variable',
    ]);
  });

  it("refuses a missing dependency", () => {
    expect(problemsOf([mod("blog", "1.0.0", { identity: "^1.0.0" })])).toEqual([
      'blog: depends on "identity" (^1.0.0), which is not registered',
    ]);
  });

  it("refuses an unsatisfied version range", () => {
    expect(problemsOf([mod("identity", "1.4.2"), mod("blog", "1.0.0", { identity: "^2.0.0" })])).toEqual([
      'blog: depends on "identity" ^2.0.0, but version 1.4.2 is registered',
    ]);
  });

  it("refuses an invalid range and an invalid version", () => {
    expect(problemsOf([mod("identity", "one"), mod("blog", "1.0.0", { identity: "not a range!" })])).toEqual([
      'identity: version "one" is not a semantic version',
      'blog: depends on "identity" with an invalid version range "not a range!"',
    ]);
  });

  it("refuses a cycle and names the modules on it", () => {
    const problems = problemsOf([
      mod("a", "1.0.0", { b: "*" }),
      mod("b", "1.0.0", { c: "*" }),
      mod("c", "1.0.0", { a: "*" }),
      mod("d", "1.0.0", { a: "*" }),
    ]);
    expect(problems).toEqual(["a: is part of a dependency cycle: a -> b -> c -> a"]);
  });

  it("refuses a self-dependency as a cycle", () => {
    expect(problemsOf([mod("a", "1.0.0", { a: "*" })])).toEqual(["a: is part of a dependency cycle: a -> a"]);
  });

  it("refuses a permission longer than a role or a key may hold, so granting it cannot break the roles list", () => {
    // 128 characters is what a role's permissions and a key's scopes take (GET /admin/roles
    // answered 500 once the grants job had put a longer one in a role).
    const at = `long.thing.${"r".repeat(128 - "long.thing.".length)}`;
    const over = `${at}x`;
    const roles = mod("people", "1.0.0", undefined, { auth: { roles: ["member"] } });
    const long = (permissions: string[]) =>
      mod("long", "1.0.0", undefined, { permissions, grants: { member: permissions } });
    expect(resolveModules([roles, long([at])])).toHaveLength(2);
    expect(problemsOf([roles, long([at, over])])).toEqual([
      `long: permission "${over}" is 129 characters; a permission has at most 128`,
    ]);
  });

  it("refuses the name kernel, which the kernel's own event types, consumers and bindings go by", () => {
    // Named "kernel", a module publishing the kernel's own event types met the kernel's claim as its own.
    const kernelEvent = z.discriminatedUnion("type", [
      z.object({ type: z.literal("events.dead_letter.replayed"), data: z.object({}) }),
    ]);
    expect(problemsOf([mod("kernel", "1.0.0", undefined, { events: { publishes: kernelEvent } })])).toEqual([
      'kernel: name "kernel" is reserved: the kernel\'s own events, bindings, queue consumers and log lines go by it',
      'kernel: event type "events.dead_letter.replayed" is the kernel\'s',
    ]);
  });

  it("refuses malformed names, permissions and a permission declared twice", () => {
    expect(
      problemsOf([
        mod("Blog"),
        mod("blog", "1.0.0", undefined, { permissions: ["blog.post.read", "blog-post"] }),
        mod("other", "1.0.0", undefined, { permissions: ["blog.post.read"] }),
      ]),
    ).toEqual([
      "Blog: name must be 1-63 chars of a-z, 0-9 and '-', starting with a letter",
      'blog: permission "blog-post" is not of the form <module>.<resource>.<action>',
      'other: permission "blog.post.read" is already declared by module "blog"',
    ]);
  });

  it('accepts a "*" subscription and subscriptions to published types; refuses malformed and unpublished types', () => {
    const handle = async () => {};
    const published = z.discriminatedUnion("type", [
      z.object({ type: z.literal("notes.note.created"), data: z.object({}) }),
    ]);
    expect(() =>
      resolveModules([
        mod("notes", "1.0.0", undefined, { events: { publishes: published } }),
        mod("mirror", "1.0.0", undefined, {
          events: {
            subscribes: [subscribeAll("all", handle), subscribe("own", published, ["notes.note.created"], handle)],
          },
        }),
      ]),
    ).not.toThrow();
    const bad = z.discriminatedUnion("type", [z.object({ type: z.literal("bad*"), data: z.object({}) })]);
    expect(
      problemsOf([
        mod("bad", "1.0.0", undefined, { events: { publishes: bad } }),
        mod("lost", "1.0.0", undefined, {
          events: { subscribes: [subscribe("typo", published, ["notes.note.created"], handle)] },
        }),
      ]),
    ).toEqual([
      'bad: event type "bad*" is not of the form <module>.<entity>.<verb>',
      'lost: subscription "typo" names event type "notes.note.created", which no registered module publishes',
    ]);
  });

  it("refuses an event type, an aggregate type or an error code declared by two modules, and kernel codes", () => {
    const events = z.discriminatedUnion("type", [z.object({ type: z.literal("a.thing.done"), data: z.object({}) })]);
    const errors = { taken: { status: 409, title: "Taken" } } as const;
    expect(
      problemsOf([
        mod("a", "1.0.0", undefined, { events: { publishes: events }, errors }),
        mod("b", "1.0.0", undefined, { events: { publishes: events }, errors: { ...errors, not_found: errors.taken } }),
      ]),
    ).toEqual([
      'b: error code "not_found" is the kernel\'s; use it without declaring it',
      'b: event type "a.thing.done" is already declared by module "a"',
      'b: error code "taken" is already declared by module "a"',
    ]);
  });

  it("refuses a job with a malformed name or cron, or an impossible retry policy or lease", () => {
    const run = async () => {};
    const jobs: ModuleDef["jobs"] = [
      { name: "Nightly", cron: "0 3 * * *", run },
      { name: "sixty-one", cron: "61 * * * *", run },
      { name: "seconds", cron: "0 0 3 * * *", run },
      { name: "greedy", cron: "@hourly", retry: { attempts: 11 }, run },
      {
        name: "backwards",
        cron: "*/7 * * * 1-5",
        retry: { attempts: 2, base_ms: 5_000, max_ms: 1_000 },
        lease_ms: 10,
        catch_up_ms: -1,
        run,
      },
      { name: "fine", cron: "15 3 * * sun", retry: { attempts: 3 }, lease_ms: 60_000, catch_up_ms: 0, run },
    ];
    expect(problemsOf([mod("chores", "1.0.0", undefined, { jobs })])).toEqual([
      `chores: job "Nightly": name must be 1-63 chars of a-z, 0-9 and '-'`,
      'chores: job "sixty-one": cron "61 * * * *" is not a five-field cron expression (CronPattern: Invalid value for minute: 61)',
      `chores: job "seconds": cron "0 0 3 * * *" is not a five-field cron expression (CronPattern: mode '5-part' requires exactly 5 parts, but pattern '0 0 3 * * *' has 6 parts.)`,
      'chores: job "greedy": retry.attempts must be a whole number from 1 to 10',
      'chores: job "backwards": retry needs 0 < base_ms <= max_ms',
      'chores: job "backwards": lease_ms must be a whole number from 1000 to 86400000',
      'chores: job "backwards": catch_up_ms must be a whole number from 0 to 86400000',
    ]);
  });

  it("refuses a sealed-field kind not named after its module: the key-versions report names kinds across modules", () => {
    const sealed = (kinds: string[]) => ({
      kinds,
      versions: async () => ({}),
      reencrypt: async () => ({ resealed: 0, raced: 0 }),
    });
    expect(
      problemsOf([mod("notes", "1.0.0", undefined, { sealed: sealed(["notes.token", "blog.token", "notes"]) })]),
    ).toEqual([
      'notes: sealed kind "blog.token" must be "notes.<field>" (lower case, dot-separated)',
      'notes: sealed kind "notes" must be "notes.<field>" (lower case, dot-separated)',
    ]);
    expect(resolveModules([mod("notes", "1.0.0", undefined, { sealed: sealed(["notes.api_token"]) })])).toHaveLength(1);
  });

  it("checks the sealed kinds a module never stores (transient) as it checks the others, and not in both lists", () => {
    const sealed = (kinds: string[], transient: string[]) => ({
      kinds,
      transient,
      versions: async () => ({}),
      reencrypt: async () => ({ resealed: 0, raced: 0 }),
    });
    expect(
      problemsOf([
        mod("notes", "1.0.0", undefined, {
          sealed: sealed(["notes.token"], ["blog.state", "notes.state:1", "notes.token"]),
        }),
      ]),
    ).toEqual([
      'notes: sealed kind "blog.state" must be "notes.<field>" (lower case, dot-separated)',
      'notes: sealed kind "notes.state:1" must be "notes.<field>" (lower case, dot-separated)',
      'notes: sealed kind "notes.token" is in both kinds (stored) and transient (never stored)',
    ]);
    expect(resolveModules([mod("notes", "1.0.0", undefined, { sealed: sealed([], ["notes.state"]) })])).toHaveLength(1);
  });

  it("checks a module's grants to the default roles: only its own permissions, only to a default role", () => {
    const roles = mod("people", "1.0.0", undefined, { auth: { roles: ["owner", "member", "viewer"] } });
    const orders = (grants: Record<string, string[]>) =>
      mod("orders", "1.0.0", undefined, { permissions: ["orders.order.create", "orders.order.read"], grants });
    expect(resolveModules([roles, orders({ member: ["orders.order.create", "orders.order.read"] })])).toHaveLength(2);
    expect(
      problemsOf([
        roles,
        orders({ member: ["orders.order.create", "blog.post.create", "orders.*"], approver: ["orders.order.read"] }),
      ]),
    ).toEqual([
      'orders: grants "blog.post.create" to the default role "member", but a module grants only permissions it declares',
      'orders: grants "orders.*" to the default role "member", but a module grants only permissions it declares',
      'orders: grants to the role "approver", which is not a default role (owner, member, viewer)',
    ]);
    expect(problemsOf([orders({ member: ["orders.order.read"] })])).toEqual([
      'orders: grants to the role "member", but no registered module provides default roles (auth.roles)',
    ]);
    // Every member of every new tenant would administer the module's surface (and fall under
    // require_two_factor_for_admins): a module declared an admin permission and granted it.
    const hooks = mod("hooks", "1.0.0", undefined, {
      permissions: ["admin.hooks.write"],
      grants: { member: ["admin.hooks.write"] },
    });
    expect(problemsOf([roles, hooks])).toEqual([
      'hooks: grants "admin.hooks.write" to the default role "member", but admin.* permissions are not granted by default',
    ]);
    const other = mod("staff", "1.0.0", undefined, { auth: { roles: ["member"] } });
    expect(problemsOf([roles, other])).toEqual(['staff: provides default roles, but module "people" already does']);
  });

  it("refuses a second module ruling an administrator's export of a member: one route, one rule", () => {
    const gate = (permission: "identity.user.export" | "identity.user.read") => ({
      permission,
      admit: async () => {},
      recordOwn: async () => {},
    });
    const people = mod("people", "1.0.0", undefined, { auth: { member_export: gate("identity.user.export") } });
    const staff = mod("staff", "1.0.0", undefined, { auth: { member_export: gate("identity.user.read") } });
    expect(resolveModules([people]).map((m) => m.name)).toEqual(["people"]);
    expect(problemsOf([people, staff])).toEqual(['staff: provides a member export, but module "people" already does']);
  });

  it("refuses a second module providing the member lookup: findMember asks one directory", () => {
    const lookup = { find: async () => null, withRole: async () => [] };
    const people = mod("people", "1.0.0", undefined, { auth: { members: lookup } });
    const staff = mod("staff", "1.0.0", undefined, { auth: { members: lookup } });
    expect(resolveModules([people]).map((m) => m.name)).toEqual(["people"]);
    expect(problemsOf([people, staff])).toEqual(['staff: provides a member lookup, but module "people" already does']);
  });

  it("refuses a second module providing tenant seeds: one key material per tenant, whatever seals with it", () => {
    const seeds = () => ({ seed: async () => null });
    const vault = mod("vault", "1.0.0", undefined, { auth: { tenant_seeds: seeds } });
    const keys = mod("keys", "1.0.0", undefined, { auth: { tenant_seeds: seeds } });
    expect(resolveModules([vault]).map((m) => m.name)).toEqual(["vault"]);
    expect(problemsOf([vault, keys])).toEqual(['keys: provides tenant seeds, but module "vault" already does']);
  });

  it("reports every problem at once in one error message", () => {
    expect(() => resolveModules([mod("x", "1.0.0", { y: "^1" }), mod("x")])).toThrowError(
      /module "x": is registered twice[\s\S]*module "x": depends on "y"/,
    );
  });

  it("orders modules after their dependencies, keeping registration order otherwise", () => {
    const order = resolveModules([
      mod("blog", "1.0.0", { identity: "^1.0.0", audit: "~1.2.0" }),
      mod("audit", "1.2.9", { identity: ">=1" }),
      mod("webhooks"),
      mod("identity", "1.1.0"),
    ]).map((m) => m.name);
    expect(order).toEqual(["webhooks", "identity", "audit", "blog"]);
  });

  it("mounts routes in dependency order: a dependency's route wins a path both match", async () => {
    // "base" serves /api/v1/shared/{a}/x, "extension" /api/v1/shared/probe/{b}: /shared/probe/x
    // matches both (neither matches all the other does, so the registry allows them). "base"
    // must be mounted first although it is registered last, so it answers.
    const base = {
      ...probeModule("base", "1.0.0", undefined, "/shared"),
      routes: createRouter().get("/:a/x", (c) => c.json({ served_by: "base" })),
    } satisfies ModuleDef;
    const extension = {
      ...probeModule("extension", "1.0.0", { base: "^1.0.0" }, "/shared"),
      routes: createRouter().get("/probe/:b", (c) => c.json({ served_by: "extension" })),
    } satisfies ModuleDef;
    const { fetch } = testApp([extension, base]);
    const res = await fetch("/api/v1/shared/probe/x");
    expect(await res.json()).toEqual({ served_by: "base" });
  });

  it("refuses a route declared twice, in one module or by two: one handler would never run", () => {
    const op = operations(["orders"]);
    const spec = (operationId: string) => ({
      operationId,
      summary: operationId,
      access: "principal" as const,
      request: { params: z.object({ id: z.string() }) },
      responses: { 204: { description: "done" } },
    });
    // A copied operation whose path was not changed: Hono runs the first handler, while
    // /openapi.json documents the second.
    const routes = createRouter()
      .openapi(op.post("/orders/{id}/pay", spec("payOrder")), (c) => c.body(null, 204))
      .openapi(op.post("/orders/{id}/pay", spec("cancelOrder")), (c) => c.body(null, 204))
      .openapi(op.post("/orders/{id}/cancel", spec("cancelOrderToo")), (c) => c.body(null, 204));
    const other = createRouter().post("/orders/:order_id/cancel", (c) => c.body(null, 204));
    expect(
      problemsOf([
        mod("orders", "1.0.0", undefined, { routes }),
        mod("legacy", "1.0.0", undefined, { base_path: "/orders", routes: other }),
        probeModule("alpha", "1.0.0", undefined, "/shared"),
        probeModule("beta", "1.0.0", undefined, "/shared"),
      ]),
    ).toEqual([
      'orders: route "POST /api/v1/orders/orders/{id}/pay" is declared twice (only the first handler would run, and /openapi.json would describe the last)',
      'legacy: route "POST /api/v1/orders/orders/:order_id/cancel" is already served by module "orders"',
      'beta: route "GET /api/v1/shared/probe" is already served by module "alpha"',
    ]);
  });

  it("refuses a route that one mounted before it always answers first: a search after {id}, a module under another's path", () => {
    const get = (path: string, operationId: string) =>
      operations(["orders"]).get(path, {
        operationId,
        summary: operationId,
        access: "principal",
        responses: { 204: { description: "done" } },
      });
    const shadowed = createRouter()
      .openapi(get("/orders/{id}", "getOrder"), (c) => c.body(null, 204))
      .openapi(get("/orders/search", "searchOrders"), (c) => c.body(null, 204));
    // Declared before {id}, a static path is reached.
    const reached = createRouter()
      .openapi(get("/invoices/search", "searchInvoices"), (c) => c.body(null, 204))
      .openapi(get("/invoices/{id}", "getInvoice"), (c) => c.body(null, 204));
    const directory = createRouter().get("/users/:id", (c) => c.body(null, 204));
    const members = createRouter().get("/members", (c) => c.body(null, 204));
    expect(
      problemsOf([
        mod("orders", "1.0.0", undefined, { routes: shadowed }),
        mod("invoices", "1.0.0", undefined, { routes: reached }),
        mod("users", "1.0.0", { directory: "^1.0.0" }, { routes: members }),
        mod("directory", "1.0.0", undefined, { base_path: "", routes: directory }),
      ]),
    ).toEqual([
      // Paths as a client and /openapi.json spell them ({id}), not Hono's :id.
      'orders: route "GET /api/v1/orders/orders/search" is never reached: "GET /api/v1/orders/orders/{id}" of module "orders", mounted before it, answers every request it would (declare the more specific route first, or use another path)',
      'users: route "GET /api/v1/users/members" is never reached: "GET /api/v1/users/{id}" of module "directory", mounted before it, answers every request it would (declare the more specific route first, or use another path)',
    ]);
  });

  it("refuses an .all() route two modules mount, or one before another's GET; a module's .use(\"*\") middleware is allowed", () => {
    // Hono serves a request with the first route mounted that matches: the second .all("/x"), and a
    // GET after an .all() at the same path, would never run, without a word.
    const hello = () => createRouter().all("/hello", (c) => c.body(null, 204));
    const board = createRouter().all("/board", (c) => c.body(null, 204));
    const status = createRouter().get("/board", (c) => c.body(null, 204));
    // Middleware on every route of a module, listed by Hono as ALL too: not an endpoint, so two
    // modules sharing a base path may each have their own.
    const guarded = (path: string) =>
      createRouter()
        .use("*", async (_c, next) => next())
        .get(path, (c) => c.body(null, 204));
    expect(
      problemsOf([
        mod("desk", "1.0.0", undefined, { base_path: "/shared", routes: hello() }),
        mod("kiosk", "1.0.0", undefined, { base_path: "/shared", routes: hello() }),
        mod("notice", "1.0.0", undefined, { base_path: "/b", routes: board }),
        mod("status", "1.0.0", { notice: "^1.0.0" }, { base_path: "/b", routes: status }),
        mod("left", "1.0.0", undefined, { base_path: "/guarded", routes: guarded("/left") }),
        mod("right", "1.0.0", undefined, { base_path: "/guarded", routes: guarded("/right") }),
        // Middleware on one exact path (it takes `next`) guards that path's GET; it serves nothing.
        mod("exact", "1.0.0", undefined, {
          routes: createRouter()
            .use("/x", async (_c, next) => next())
            .get("/x", (c) => c.body(null, 204)),
        }),
      ]),
    ).toEqual([
      'kiosk: route "ALL /api/v1/shared/hello" is already served by module "desk"',
      'status: route "GET /api/v1/b/board" and route "ALL /api/v1/b/board" of module "notice" both answer GET /api/v1/b/board: only the one mounted first would (an .all() route answers every method; one module owns each method of a path)',
    ]);
  });

  it("refuses a route of one method and another module's .all() at its path, whichever registers or mounts first", () => {
    // Mounted before the .all(), a GET takes the GET requests and leaves the .all() every other
    // method, so the .all()'s GET is dead without a sign; mounted after, the GET is dead.
    const board = () => createRouter().all("/board/:id", (c) => c.body(null, 204));
    const status = () => createRouter().post("/board/:board_id", (c) => c.body(null, 204));
    const notice = (extra: Partial<ModuleDef> = {}) =>
      mod("notice", "1.0.0", undefined, { base_path: "/b", routes: board(), ...extra });
    const poster = (extra: Partial<ModuleDef> = {}) =>
      mod("poster", "1.0.0", undefined, { base_path: "/b", routes: status(), ...extra });
    const clash = (later: string, laterRoute: string, earlier: string, earlierRoute: string) =>
      `${later}: route "${laterRoute} /api/v1/b/board/{${laterRoute === "ALL" ? "id" : "board_id"}}" and route ` +
      `"${earlierRoute} /api/v1/b/board/{${earlierRoute === "ALL" ? "id" : "board_id"}}" of module "${earlier}" both ` +
      `answer POST /api/v1/b/board/{${laterRoute === "ALL" ? "id" : "board_id"}}: only the one mounted first would ` +
      "(an .all() route answers every method; one module owns each method of a path)";
    // Registered (and mounted) in either order, and mounted against registration order.
    expect(problemsOf([poster(), notice()])).toEqual([clash("notice", "ALL", "poster", "POST")]);
    // One path under two parameter names is one route, told once.
    const twice = createRouter()
      .post("/board/:board_id", (c) => c.body(null, 204))
      .post("/board/:key", (c) => c.body(null, 204));
    expect(problemsOf([notice(), poster({ routes: twice })])).toEqual([clash("poster", "POST", "notice", "ALL")]);
    expect(problemsOf([notice(), poster()])).toEqual([clash("poster", "POST", "notice", "ALL")]);
    expect(problemsOf([poster({ depends_on: { notice: "^1.0.0" } }), notice()])).toEqual([
      clash("notice", "ALL", "poster", "POST"),
    ]);
    expect(problemsOf([notice({ depends_on: { poster: "^1.0.0" } }), poster()])).toEqual([
      clash("poster", "POST", "notice", "ALL"),
    ]);
    // A GET whose path covers the .all()'s (a parameter where the .all() has a name) takes its GETs too.
    const byId = mod("cards", "1.0.0", undefined, {
      base_path: "/c",
      routes: createRouter().get("/:id", (c) => c.body(null, 204)),
    });
    const latest = mod(
      "latest",
      "1.0.0",
      { cards: "^1.0.0" },
      {
        base_path: "/c",
        routes: createRouter().all("/latest", (c) => c.body(null, 204)),
      },
    );
    expect(problemsOf([latest, byId])).toEqual([
      'latest: route "ALL /api/v1/c/latest" is never reached by GET: "GET /api/v1/c/{id}" of module "cards", mounted before it, answers every GET request it would (declare the more specific route first, or use another path)',
    ]);
    // One module's own GET before its own .all() (the .all() a fallback for the other methods) is its choice.
    expect(() =>
      resolveModules([
        mod("own", "1.0.0", undefined, {
          routes: createRouter()
            .get("/x", (c) => c.body(null, 204))
            .all("/x", (c) => c.body(null, 405))
            .get("/y/:id", (c) => c.body(null, 204))
            .all("/y/latest", (c) => c.body(null, 405)),
        }),
      ]),
    ).not.toThrow();
  });

  it("mounts each module under /api/v1/<name> by default", async () => {
    const { fetch } = testApp([probeModule("alpha", "1.0.0"), probeModule("beta", "2.0.0", { alpha: "1.x" })]);
    expect(await (await fetch("/api/v1/alpha/probe")).json()).toEqual({ served_by: "alpha" });
    expect(await (await fetch("/api/v1/beta/probe")).json()).toEqual({ served_by: "beta" });
  });

  it("refuses to build a platform from an invalid registry", () => {
    expect(() => testApp([probeModule("a", "1.0.0", { missing: "^1" })])).toThrowError(ModuleRegistryError);
  });
});

// A module binding a per-tenant Durable Object with no `erasure` was registered without a word,
// and a deleted tenant's objects kept their rows and timers for good (docs/actors.md said so).
describe("module registry: Durable Objects and erasure", () => {
  const erase = { erase: async () => {} };

  it("refuses a module binding an object of its own with no erasure, saying what to add", () => {
    const problems = problemsOf([mod("reminders", "1.0.0", undefined, { bindings: { REMINDERS: "durable_object" } })]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("reminders: binds the Durable Object REMINDERS but declares no erasure");
    expect(problems[0]).toContain("add erasure: { erase:");
    expect(problems[0]).toContain('tenant_free_objects: { REMINDERS: "<why>" }');
  });

  it("takes one with an erasure, one whose object is named tenant-free with why, and the kernel's own objects", () => {
    const ok = [
      mod("reminders", "1.0.0", undefined, { bindings: { REMINDERS: "durable_object", FILES: "r2" }, erasure: erase }),
      mod("clocks", "1.0.0", undefined, {
        bindings: { CLOCK_TOWER: "durable_object" },
        tenant_free_objects: { CLOCK_TOWER: "one object for the platform: the time each region last saw" },
      }),
      mod("limits", "1.0.0", undefined, { bindings: { RATE_LIMITER: "durable_object", LIMITS: "kv" } }),
      // Binds the reminders module's object, which that module's erasure empties.
      mod("digest", "1.0.0", undefined, { bindings: { REMINDERS: "durable_object" } }),
    ];
    expect(resolveModules(ok).map((m) => m.name)).toEqual(["reminders", "clocks", "limits", "digest"]);
  });

  it("refuses an exemption without a reason, or naming no object of its own; one exempt object does not excuse another", () => {
    expect(
      problemsOf([
        mod("clocks", "1.0.0", undefined, {
          bindings: { CLOCK_TOWER: "durable_object", ALARMS: "durable_object" },
          tenant_free_objects: { CLOCK_TOWER: " ", BELLS: "no such binding" },
        }),
      ]),
    ).toEqual([
      "clocks: tenant_free_objects.CLOCK_TOWER must say why it holds no tenant's data",
      "clocks: tenant_free_objects names BELLS, which is not a Durable Object binding it declares",
      expect.stringContaining("clocks: binds the Durable Object ALARMS but declares no erasure"),
    ]);
  });
});
