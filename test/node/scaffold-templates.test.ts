// What `plinth new module` writes, checked without writing it: the templates are
// functions of the names (scripts/lib/scaffold-templates.mjs). test/node/scaffold.test.ts
// checks that a scaffold typechecks, lints and passes its own tests as generated; this file
// checks what it does once a team makes it theirs.
import { join } from "node:path";
import { build, transform } from "esbuild";
import { describe, expect, it } from "vitest";
import { problemsOf } from "../../scripts/lib/scaffold.mjs";
import * as t from "../../scripts/lib/scaffold-templates.mjs";
import { type EventUnion, eventTypes } from "../../src/kernel/events/envelope";
import { eventReadProblems } from "../../src/kernel/modules/event-read";
import { grantProblems } from "../../src/kernel/modules/grants";
import { validParam } from "./proxy/samples";

/** The generated routes' `view` function, compiled, over a schema that keeps what it is given. */
async function viewOf(name: string, type: string) {
  const n = t.namesOf(name, type);
  const source = t.routes(n).match(/^function view\([\s\S]*?^}$/m)?.[0];
  if (!source) throw new Error("the generated routes.ts has no view function");
  const { code } = await transform(source, { loader: "ts" });
  const schema = { parse: (value: unknown) => value };
  return new Function(`${n.Type}Schema`, `${code}\nreturn view;`)(schema) as (
    state: Record<string, unknown>,
    version: number,
  ) => unknown;
}

describe("scaffold templates", () => {
  it("shows every state of an aggregate but 'none', so a status a team adds (paid, cancelled) is not a 404", async () => {
    const view = await viewOf("orders", "order");
    expect(view({ status: "none" }, 0)).toBeNull();
    expect(view({ status: "active", id: "o1" }, 1)).toEqual({ status: "active", id: "o1", version: 1 });
    expect(view({ status: "paid", id: "o1" }, 2)).toEqual({ status: "paid", id: "o1", version: 2 });
  });
});

/** The generated routes' API schema, compiled over the real zod the routes import. */
async function apiSchemaOf(name: string, type: string) {
  const n = t.namesOf(name, type);
  const source = t.routes(n).match(new RegExp(`^const ${n.Type}Schema = z[\\s\\S]*?;$`, "m"))?.[0];
  if (!source) throw new Error("the generated routes.ts has no API schema");
  const { code } = await transform(source, { loader: "ts" });
  const { z } = await import("@hono/zod-openapi");
  return new Function("z", `${code}\nreturn ${n.Type}Schema;`)(z) as { parse(value: unknown): unknown };
}

describe("the scaffold's API schema", () => {
  it("shows an order's status, so a client tells a status a team adds (paid) from an active one", async () => {
    // view() parses the state through this schema, which keeps only what it declares.
    const schema = await apiSchemaOf("orders", "order");
    const at = "2026-03-01T09:00:00.000Z";
    const order = { id: "o1", name: "n", created_by: "u1", created_at: at, updated_at: at, version: 2 };
    expect(schema.parse({ status: "active", ...order })).toMatchObject({ status: "active" });
    expect(schema.parse({ status: "paid", ...order })).toMatchObject({ status: "paid" });
  });
});

/** The generated manifest, compiled and evaluated. */
async function manifestOf(name: string, type: string) {
  const { code } = await transform(t.manifest(t.namesOf(name, type)).replace("export const", "const"), {
    loader: "ts",
  });
  return new Function(`${code}\nreturn manifest;`)() as {
    name: string;
    version: string;
    permissions: readonly string[];
    grants?: Readonly<Record<string, readonly string[]>>;
    event_read?: Readonly<Record<string, string>>;
  };
}

describe("the scaffold's grants", () => {
  it("gives a new tenant's members the read permission, so a member calling the new routes is not refused", async () => {
    const manifest = await manifestOf("orders", "order");
    expect(manifest.grants).toEqual({ member: ["orders.order.read"] });
    // As the registry checks them: its own permission, no admin.*, a default role identity names.
    const identity = { name: "identity", version: "1.0.0", auth: { roles: ["owner", "admin", "member", "viewer"] } };
    expect(grantProblems([identity, manifest])).toEqual([]);
  });
});

describe("the scaffold's event_read", () => {
  it("makes a webhook following the module's events need its read permission, a rule the registry takes", async () => {
    const manifest = await manifestOf("orders", "order");
    // Without a rule the events fell to the audit log's: an admin who reads orders could not follow them.
    expect(manifest.event_read).toEqual({ "orders.*": "orders.order.read" });
    const domain = (await domainOf("orders", "order")) as unknown as Record<string, EventUnion>;
    const schema = domain.OrderEventSchema;
    if (!schema) throw new Error("the generated domain.ts exports no OrderEventSchema");
    const published = eventTypes(schema).map((type) => ({ type, module: "orders" }));
    expect(published.map((p) => p.type)).toContain("orders.order.created");
    expect(eventReadProblems([manifest], published)).toEqual([]);
  });
});

/** The generated domain.ts, bundled as if written to src/modules/<name>/ (a sibling's folder: the same imports resolve) and imported. */
async function domainOf(name: string, type: string) {
  const n = t.namesOf(name, type);
  const root = join(import.meta.dirname, "..", "..");
  const out = await build({
    stdin: { contents: t.domain(n), loader: "ts", resolveDir: join(root, "src/modules/blog") },
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    logLevel: "silent",
  });
  const code = out.outputFiles[0]?.text ?? "";
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)) as Record<
    string,
    { safeParse(value: unknown): { success: boolean } }
  >;
}

describe("the scaffold's name", () => {
  it("refuses what a reader cannot see as written (a bidirectional override, a control character), as blog titles do", async () => {
    const { OrderNameSchema: name } = await domainOf("orders", "order");
    expect(name?.safeParse("Spring order").success).toBe(true);
    // Shown to other users (lists, the audit log's readers, a webhook receiver's UI), this reads "invoice.exe" reversed.
    expect(name?.safeParse("evil\u202Eexe.txt").success).toBe(false);
    expect(name?.safeParse("two\nlines").success).toBe(false);
  });
});

describe("the scaffold's read model", () => {
  it("adds no index over the primary key's columns, which SQLite indexes already (each would double a write's rows)", () => {
    const source = t.readModel(t.namesOf("orders", "order"));
    const primary = source.match(/primaryKey\(\{ columns: \[([^\]]*)\] \}\)/)?.[1];
    expect(primary).toBe("t.tenant_id, t.id");
    const indexed = [...source.matchAll(/index\("[^"]*"\)\.on\(([^)]*)\)/g)].map((m) => m[1]);
    expect(indexed).not.toContain(primary);
  });
});

describe("the scaffold's unknown id", () => {
  it("is answered in one wording, read or commanded, the blog's (no such post)", async () => {
    const n = t.namesOf("orders", "order");
    const read = t
      .routes(n)
      .match(/const notFound = \(\) => new AppError\("not_found", \{ detail: "([^"]*)" \}\)/)?.[1];
    expect(read).toBe("no such order");
    type Decide = (command: unknown, state: unknown, ctx: unknown) => { ok: boolean; error?: unknown };
    const { orderDecider } = (await domainOf("orders", "order")) as unknown as Record<
      string,
      { decide: Decide; initialState: unknown }
    >;
    const ctx = { now: "2026-03-01T09:00:00.000Z", actor: { kind: "user", id: "u1" } };
    const renamed = orderDecider?.decide({ type: "rename", name: "Ghost" }, orderDecider.initialState, ctx);
    expect(renamed).toEqual({ ok: false, error: { code: "not_found", message: read } });
  });
});

describe("scaffold templates' wording", () => {
  it("says 'an order' and 'a widget' in what /docs and the tests show", () => {
    const order = t.namesOf("orders", "order");
    expect(t.routes(order)).toContain('summary: "Create an order"');
    expect(t.routes(order)).toContain('summary: "Rename an order; honours If-Match"');
    expect(t.domainTest(order)).toContain('it("creates an order at');
    expect(t.sweep(order)).toContain("sent to an order that does not exist");
    expect(t.routes(order)).not.toMatch(/\ba order\b/i);
    expect(t.domain(order)).not.toMatch(/\ba order\b/i);
    expect(t.routes(t.namesOf("widgets", "widget"))).toContain('summary: "Create a widget"');
  });
});

describe("where the scaffold's routes are served", () => {
  it("at the module's root when the aggregate's plural is the module's name: /api/v1/orders, not /api/v1/orders/orders", () => {
    const orders = t.namesOf("orders", "order");
    expect(t.routes(orders)).toContain('op.post("/", {');
    expect(t.routes(orders)).toContain('op.get("/", {');
    expect(t.routes(orders)).toContain('op.get("/{id}", {');
    expect(t.routes(orders)).toContain('op.patch("/{id}", {');
    expect(t.routes(orders)).not.toContain("/orders/orders");
    for (const file of [t.httpTest(orders), t.sweep(orders)]) expect(file).toContain('const base = "/api/v1/orders";');
  });

  it("under the module, named by the plural, otherwise", () => {
    const shop = t.namesOf("shop", "order");
    expect(t.routes(shop)).toContain('op.post("/orders", {');
    expect(t.routes(shop)).toContain('op.get("/orders/{id}", {');
    for (const file of [t.httpTest(shop), t.sweep(shop)]) expect(file).toContain('const base = "/api/v1/shop/orders";');
  });
});

describe("plinth new module's name checks", () => {
  const root = join(import.meta.dirname, "..", "..");
  it("refuses a name whose /api/v1/<name> another module already serves: its routes would never answer", () => {
    // identity serves GET /api/v1/users/{id}, which matches /api/v1/users/members first.
    expect(problemsOf(root, "users", "member")).toEqual([
      'the path /api/v1/users is already served (GET /api/v1/users, GET /api/v1/users/{id}, …): a module named "users" would mount its routes among them, and those answer first any request both match; pick another name',
    ]);
    expect(problemsOf(root, "invoices", "invoice")).toEqual([]);
  });

  it("refuses a name whose table exists already: drizzle-kit merges the two and writes no migration", () => {
    // `dead` with `letter` is dead_letters, the kernel's dead letters: the scaffold wrote no
    // migration and said it was done, and the module's routes would read the kernel's rows.
    expect(problemsOf(root, "dead", "letter")).toEqual([
      'the table "dead_letters" (<module>_<aggregate>s) is already declared (src/kernel/db/schema.ts): pick another name or --aggregate',
    ]);
    expect(problemsOf(root, "erased", "tenant")).toEqual([
      'the table "erased_tenants" (<module>_<aggregate>s) is already declared (src/modules/tenants/read-model.ts): pick another name or --aggregate',
    ]);
    // D1 records applied migrations in d1_migrations, and SQLite keeps sqlite_* names for itself:
    // the migration would fail to apply, or take the place of the migrations' own record.
    expect(problemsOf(root, "d1", "migration")).toEqual([
      'the table "d1_migrations" (<module>_<aggregate>s) is D1\'s record of applied migrations: pick another name or --aggregate',
    ]);
    expect(problemsOf(root, "sqlite", "stat")).toEqual([
      'the table "sqlite_stats" (<module>_<aggregate>s) is a name SQLite keeps for itself (sqlite_*): pick another name',
    ]);
  });

  it("refuses a module name its factory cannot be called: a reserved word, or a name its index files use", () => {
    // `package` wrote `export const package = …`, which does not parse, then failed in the
    // generator with a stack trace, the module written and registered.
    expect(problemsOf(root, "package", "parcel")).toEqual([
      'the module name "package" is a reserved word in JavaScript, and the module\'s factory is a function of its name (export const package = …): pick another name',
    ]);
    for (const name of ["modules", "manifest"]) {
      expect(problemsOf(root, name, "item")).toEqual([
        `the module name "${name}" is already a name in src/modules/index.ts or the module's own index.ts, where its factory is declared: pick another name`,
      ]);
    }
  });

  it("writes a domain that parses whatever the aggregate type is called (news makes a `new`)", async () => {
    for (const [name, type] of [
      ["news", "new"],
      ["shop", "command"],
      ["shelf", "class"],
    ] as const) {
      await expect(transform(t.domain(t.namesOf(name, type)), { loader: "ts" })).resolves.toBeDefined();
    }
  });

  it("refuses the name kernel: the kernel's events, consumers and log lines go by it", () => {
    expect(problemsOf(root, "kernel", "widget")).toEqual([
      'the module name "kernel" is reserved: the kernel\'s own events, bindings, queue consumers and log lines are named "kernel"',
    ]);
  });
});

/** The generated Prism sweep file, compiled, with its `import type` dropped. */
async function sweepOf(name: string, type: string) {
  const { code } = await transform(t.sweep(t.namesOf(name, type)).replace(/^import type .*$/m, ""), { loader: "ts" });
  return new Function(`${code.replace("export const sweep", "const sweep")}\nreturn sweep;`)() as {
    valid(s: unknown, fx: { adminKey: string; ids: Record<string, string> }): Promise<void>;
  };
}

describe("the scaffold's Prism sweep", () => {
  it("names its live resource for the derived error requests, so a stale If-Match meets a 412, not a 404", async () => {
    for (const [name, type, path] of [
      ["orders", "order", "/api/v1/orders/{id}"],
      ["shop", "order", "/api/v1/shop/orders/{id}"],
    ] as const) {
      const sweep = await sweepOf(name, type);
      const fx = { adminKey: "plk_x", ids: {} as Record<string, string> };
      const s = { need: async () => ({ id: "live-1" }), call: async () => ({}) };
      await sweep.valid(s, fx);
      // errors.ts sends the stale If-Match request of PATCH …/{id} to this id: one that exists.
      expect(validParam(path, "id", fx.ids)).toBe("live-1");
    }
  });
});
