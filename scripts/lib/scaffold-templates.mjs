// The files `plinth new module <name> --aggregate <type>` writes: a module with
// the anatomy every plinth module shares, and its tests. Each template is a
// function of the names; see scaffold.mjs for where they go.

/**
 * The names a scaffold is written with.
 * `a` and `A` are the type with its indefinite article ("an order", "A widget"). `route` is
 * the resource's path within the module ("" at its root), `url` its full path.
 * @typedef {{ name: string, type: string, Type: string, plural: string, table: string, a: string, A: string, route: string, url: string }} Names
 */

/** @param {string} name @param {string} type @returns {Names} */
export function namesOf(name, type) {
  // By spelling: right for most nouns a team names (order, item, invoice, widget); a few read otherwise ("a user").
  const article = /^[aeiou]/.test(type) ? "an" : "a";
  // `orders` with an `order`: the module's root is the resource (/api/v1/orders), not /api/v1/orders/orders.
  const route = `${type}s` === name ? "" : `/${type}s`;
  return {
    route,
    url: `/api/v1/${name}${route}`,
    name,
    type,
    Type: type[0].toUpperCase() + type.slice(1),
    plural: `${type}s`,
    table: `${name}_${type}s`,
    a: `${article} ${type}`,
    A: `${article === "an" ? "An" : "A"} ${type}`,
  };
}

/** @param {Names} n */
export const manifest = (n) => `/** The \`${n.name}\` module. Read by \`npm run generate\`: imports nothing. */
export const manifest = {
  name: "${n.name}",
  version: "0.1.0",
  description: "${n.Type}s: create, rename, list.",
  depends_on: { identity: "^1.0.0" },
  permissions: ["${n.name}.${n.type}.create", "${n.name}.${n.type}.read", "${n.name}.${n.type}.update"],
  // Without a grant no permission of a new module reaches a tenant's members, and a member's
  // first call is 403. Members read ${n.plural}; owners and admins hold every permission already,
  // viewers every read. Grant more (create, say) as your product decides. Existing tenants get
  // it from the hourly tenants/apply-grants: docs/modules.md, "Permissions and roles".
  grants: { member: ["${n.name}.${n.type}.read"] },
  // A webhook following these events needs what reads ${n.plural} through the API (without a rule
  // they fall to the audit log's admin.audit.read): docs/modules.md, "Who may follow your events".
  event_read: { "${n.name}.*": "${n.name}.${n.type}.read" },
} as const;
`;

/** @param {Names} n */
export const errors = (n) => `import { defineErrorCodes } from "../../kernel/errors/codes";

/** The ${n.name} module's error codes, part of its public contract: one per case. */
export const ${n.name}Errors = defineErrorCodes({
  ${n.type}_exists: { status: 409, title: "${n.Type} already exists" },
});

/** A code ${n.a} decision may reject with: the module's own, or the kernel's \`not_found\`. */
export type ${n.Type}ErrorCode = keyof typeof ${n.name}Errors | "not_found";
`;

/** @param {Names} n */
export const domain = (n) => `/**
 * The ${n.Type} aggregate as a pure decider: commands, events, state and the
 * rules between them. No Workers, Hono or drizzle imports: the Aggregate DO
 * stores the events and checks If-Match; the command bus checks who may act.
 */
import { z } from "zod";
import { accept, type DecideContext, type Decider, type Decision, reject } from "../../kernel/events/decider";
import { showable, UNSHOWABLE_MESSAGE } from "../../kernel/text/showable";
import type { ${n.Type}ErrorCode } from "./errors";

/**
 * ${n.A}'s name: trimmed, 1–200 characters, one line people can read as written (no control
 * characters or bidirectional overrides, as blog titles and user names). Reused by the route bodies.
 */
export const ${n.Type}NameSchema = z.string().trim().min(1).max(200).refine(showable, UNSHOWABLE_MESSAGE);
const Id = z.string().min(1).max(200);

/** Every ${n.Type} command, discriminated by \`type\`. */
export const ${n.Type}CommandSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("create"), id: Id, name: ${n.Type}NameSchema, created_by: Id }),
  z.strictObject({ type: z.literal("rename"), name: ${n.Type}NameSchema }),
]);
export type ${n.Type}Command = z.infer<typeof ${n.Type}CommandSchema>;

// Stored events are history: parsed leniently, so tightening a command rule never breaks a stream.
const At = z.iso.datetime({ offset: true });

/** Every ${n.Type} event: the module's declaration of what it publishes. */
export const ${n.Type}EventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("${n.name}.${n.type}.created"),
    data: z.object({ id: z.string(), name: z.string(), created_by: z.string(), created_at: At }),
  }),
  z.object({ type: z.literal("${n.name}.${n.type}.renamed"), data: z.object({ name: z.string(), renamed_at: At }) }),
]);
export type ${n.Type}Event = z.infer<typeof ${n.Type}EventSchema>;

/** ${n.A} before it exists, and after. */
export const ${n.Type}StateSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("none") }),
  z.object({
    status: z.literal("active"),
    id: z.string(),
    name: z.string(),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  }),
]);
export type ${n.Type}State = z.infer<typeof ${n.Type}StateSchema>;

const fail = (code: ${n.Type}ErrorCode, message: string) => reject(code, message);

/** Rules: \`create\` needs a new stream (\`${n.type}_exists\`); \`rename\` a created ${n.type} (\`not_found\`). */
function decide(command: ${n.Type}Command, state: ${n.Type}State, ctx: DecideContext): Decision<${n.Type}Event> {
  if (command.type === "create") {
    if (state.status !== "none") return fail("${n.type}_exists", \`${n.type} \${command.id} already exists\`);
    const { type: _type, ...fields } = command;
    return accept({ type: "${n.name}.${n.type}.created", data: { ...fields, created_at: ctx.now } });
  }
  // The wording of the routes' 404: one answer for an unknown id, read or commanded.
  if (state.status === "none") return fail("not_found", "no such ${n.type}");
  // Renaming to the same name changes nothing: accepted, with no event and no new version.
  if (command.name === state.name) return accept();
  return accept({ type: "${n.name}.${n.type}.renamed", data: { name: command.name, renamed_at: ctx.now } });
}

/** Folds one event into the state, returning a new object. */
function evolve(state: ${n.Type}State, event: ${n.Type}Event): ${n.Type}State {
  switch (event.type) {
    case "${n.name}.${n.type}.created":
      return { status: "active", ...event.data, updated_at: event.data.created_at };
    case "${n.name}.${n.type}.renamed":
      if (state.status === "none") return state;
      return { ...state, name: event.data.name, updated_at: event.data.renamed_at };
  }
}

/** The ${n.Type} aggregate: streams are "<tenant>/${n.type}/<id>". */
export const ${n.type}Decider = {
  type: "${n.type}",
  commandSchema: ${n.Type}CommandSchema,
  eventSchema: ${n.Type}EventSchema,
  stateSchema: ${n.Type}StateSchema,
  initialState: { status: "none" },
  decide,
  evolve,
} satisfies Decider<${n.Type}Command, ${n.Type}Event, ${n.Type}State>;
`;

/** @param {Names} n */
export const readModel = (n) => `import { and, asc, eq, gt } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { ReadModelDb } from "../../kernel/read-models";

/**
 * The ${n.name} read model: one row per ${n.type} holding the aggregate's state
 * (same field names) at \`version\`, filled by the ${n.type} projection.
 */
export const ${n.name}${n.Type}s = sqliteTable(
  "${n.table}",
  {
    tenant_id: text("tenant_id").notNull(),
    id: text("id").notNull(),
    name: text("name").notNull(),
    status: text("status", { enum: ["active"] }).notNull(),
    created_by: text("created_by").notNull(),
    version: integer("version").notNull(),
    created_at: text("created_at").notNull(),
    updated_at: text("updated_at").notNull(),
  },
  // The primary key already indexes (tenant_id, id), the list's order; this one serves its ?created_by=.
  (t) => [primaryKey({ columns: [t.tenant_id, t.id] }), index("${n.table}_created_by").on(t.tenant_id, t.created_by, t.id)],
);

/** A tenant's ${n.plural} in id order after \`cursor\`, optionally by creator. Runs on D1 or libSQL (docs/read-models.md). */
export function list${n.Type}s(db: ReadModelDb, f: { tenantId: string; cursor?: string; createdBy?: string; limit: number }) {
  const t = ${n.name}${n.Type}s;
  return db
    .select()
    .from(t)
    .where(and(eq(t.tenant_id, f.tenantId), gt(t.id, f.cursor ?? ""), f.createdBy ? eq(t.created_by, f.createdBy) : undefined))
    .orderBy(asc(t.id))
    .limit(f.limit);
}
`;

/** @param {Names} n */
export const projection = (n) => `import { stateProjection } from "../../kernel/events/projection";
import { tableRows } from "../../kernel/events/table-rows";
import { ${n.Type}StateSchema, ${n.type}Decider } from "./domain";
import { ${n.name}${n.Type}s } from "./read-model";

/** ${n.A}'s row: its state at a version. ${n.A} that does not exist has none. */
export const ${n.type}Rows = tableRows(${n.name}${n.Type}s, {
  state: (row) => ${n.Type}StateSchema.parse(row),
  row: (state) => (state.status === "none" ? null : state),
});

/**
 * \`${n.table}\`: each ${n.type}'s state, evolved by the decider itself; applied by the
 * writer right after each commit and by the queue (see docs/events.md).
 */
export const ${n.type}Projection = stateProjection("${n.name}.${n.plural}", ${n.type}Decider, ${n.type}Rows);
`;

/** @param {Names} n */
export const routes = (n) => `import { z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../../generated/permissions";
import { principalOf, tenantOf } from "../../kernel/auth/guards";
import { dispatch } from "../../kernel/cqrs/command-bus";
import { query } from "../../kernel/cqrs/query-bus";
import { newId } from "../../kernel/crypto";
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
import { type ${n.Type}State, ${n.Type}NameSchema, ${n.Type}StateSchema, ${n.type}Decider } from "./domain";
import { ${n.name}Errors } from "./errors";
import { ${n.type}Rows } from "./projection";
import { list${n.Type}s } from "./read-model";

/** ${n.A} as the API shows it. */
const ${n.Type}Schema = z
  .object({
    id: z.string(),
    name: z.string(),
    // A string, not the state's literals: a status the decider gains (paid, archived) is shown
    // as it is, where an enum left behind would refuse it (a 500) and none would hide it.
    status: z.string(),
    created_by: z.string(),
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("${n.Type}");

/**
 * The view of ${n.a}'s state at a version: null unless it exists. Only the fields the schema
 * declares: state the API does not show stays out. Tested against "none", not "active", so a
 * status added to the state (paid, archived) is still shown rather than answered as a 404.
 */
function view(state: ${n.Type}State, version: number): z.infer<typeof ${n.Type}Schema> | null {
  return state.status === "none" ? null : ${n.Type}Schema.parse({ ...state, version });
}

const notFound = () => new AppError("not_found", { detail: "no such ${n.type}" });
const op = operations(["${n.name}"]);

const create = op.post("${n.route || "/"}", {
  operationId: "create${n.Type}",
  summary: "Create ${n.a}",
  access: PERMISSIONS.${n.name}.${n.type}.create,
  request: { body: jsonBody(z.object({ name: ${n.Type}NameSchema })) },
  // The headers its answers carry (the bus sets ETag), so generated clients see them.
  responses: { 201: jsonResponse("the new ${n.type} (version 1)", ${n.Type}Schema, { ...ETAG_HEADER, ...LOCATION_HEADER }) },
});
const list = op.get("${n.route || "/"}", {
  operationId: "list${n.Type}s",
  summary: "List ${n.plural} (eventually consistent), by id",
  access: PERMISSIONS.${n.name}.${n.type}.read,
  request: { query: IdPageQuery.extend({ created_by: z.string().max(64).optional() }) },
  responses: { 200: jsonResponse("a page of ${n.plural}", listOf(${n.Type}Schema)) },
});
const get = op.get("${n.route}/{id}", {
  operationId: "get${n.Type}",
  summary: "One ${n.type}; ?consistency=strong reads the writer",
  access: PERMISSIONS.${n.name}.${n.type}.read,
  request: { params: IdParam, query: z.object({ consistency: z.enum(["eventual", "strong"]).default("eventual") }) },
  responses: { 200: jsonResponse("the ${n.type}", ${n.Type}Schema, ETAG_HEADER), 404: problem("no such ${n.type}") },
});
const rename = op.patch("${n.route}/{id}", {
  operationId: "rename${n.Type}",
  summary: "Rename ${n.a}; honours If-Match",
  access: PERMISSIONS.${n.name}.${n.type}.update,
  request: { params: IdParam, headers: IfMatchHeader, body: jsonBody(z.object({ name: ${n.Type}NameSchema })) },
  responses: {
    200: jsonResponse("the renamed ${n.type}", ${n.Type}Schema, ETAG_HEADER),
    404: problem("no such ${n.type}"),
    412: problem("If-Match names another version"),
  },
});

/** \`${n.url}\`. */
export const ${n.name}Routes = createRouter()
  .openapi(create, async (c) => {
    const id = newId(c.get("clock").now().getTime());
    const { version, state } = await dispatch(c, {
      decider: ${n.type}Decider,
      id,
      command: { type: "create", id, name: c.req.valid("json").name, created_by: principalOf(c, "user", "api_key").id },
      permission: PERMISSIONS.${n.name}.${n.type}.create,
      errors: ${n.name}Errors,
    });
    const created = view(state, version);
    if (!created) throw new AppError("internal", { cause: new Error("a created ${n.type} has no view") });
    c.header("Location", \`${n.url}/\${id}\`);
    return c.json(created, 201);
  })
  .openapi(list, async (c) => {
    const { limit, cursor, created_by } = c.req.valid("query");
    const rows = await query(c, {
      name: "${n.name}.${n.type}.list",
      consistency: "eventual",
      eventual: () =>
        list${n.Type}s(readModels(c.env), { tenantId: tenantOf(c).id, cursor, createdBy: created_by, limit: limit + 1 }),
    });
    const items = rows.flatMap((r) => view(${n.Type}StateSchema.parse(r), r.version) ?? []);
    return c.json(page(items, limit, (i) => i.id), 200);
  })
  .openapi(get, async (c) => {
    const { id } = c.req.valid("param");
    const tenantId = tenantOf(c).id;
    const found = await query(c, {
      name: "${n.name}.${n.type}.get",
      consistency: c.req.valid("query").consistency,
      strong: async () => {
        const { version, state } = await aggregateOf(c.env, ${n.type}Decider, tenantId, id).state();
        return view(state, version);
      },
      eventual: async () => {
        const r = await loadRow(${n.type}Rows, c.env, { tenantId, id });
        return r && view(r.state, r.version);
      },
    });
    if (!found) throw notFound();
    c.header("ETag", \`"\${found.version}"\`);
    return c.json(found, 200);
  })
  .openapi(rename, async (c) => {
    const { version, state } = await dispatch(c, {
      decider: ${n.type}Decider,
      id: c.req.valid("param").id,
      command: { type: "rename", name: c.req.valid("json").name },
      expectedVersion: ifMatch(c),
      permission: PERMISSIONS.${n.name}.${n.type}.update,
      errors: ${n.name}Errors,
    });
    const renamed = view(state, version);
    if (!renamed) throw notFound();
    return c.json(renamed, 200);
  });
`;

/** @param {Names} n @param {import("./scaffold-actor.mjs").ActorNames} [actor] the module's actor, if it has one */
export const index = (n, actor) => `import type { ModuleDef } from "../../kernel/modules/types";
${actor ? `import { ${actor.client} } from "./contract";\n` : ""}import { ${n.Type}EventSchema, ${n.type}Decider } from "./domain";
import { ${n.name}Errors } from "./errors";
import { manifest } from "./manifest";
import { ${n.type}Projection } from "./projection";
import { ${n.name}${n.Type}s } from "./read-model";
import { ${n.name}Routes } from "./routes";

/**
 * The \`${n.name}\` module factory: the ${n.Type} aggregate (a pure decider the
 * kernel's Aggregate Durable Object runs), its routes under \`${n.url}\`,
 * and the projection that keeps \`${n.table}\` in the read-model database (D1 or libSQL).${
   actor
     ? `
 * Its per-tenant actor, ${actor.Class} (./contract.ts), is bound as ${actor.binding} and erased with
 * its tenant.`
     : ""
 }
 */
export const ${n.name} = () =>
  ({
    ...manifest,
    errors: ${n.name}Errors,
    tables: { ${n.name}${n.Type}s },
    routes: ${n.name}Routes,
    aggregates: [{ decider: ${n.type}Decider }],
    events: { publishes: ${n.Type}EventSchema, subscribes: [${n.type}Projection] },${
      actor
        ? `
    bindings: { ${actor.binding}: "durable_object" },
    erasure: {
      async erase(tenantId, runtime) {
        await ${actor.client}(runtime.env, tenantId).eraseAll({ tenant_id: tenantId });
      },
    },`
        : ""
    }
  }) satisfies ModuleDef;
`;

/** @param {Names} n */
export const domainTest = (n) => `// The ${n.Type} decider, given/when/then: no runtime, no storage.
import { describe, expect, it } from "vitest";
import type { DecideContext } from "../../src/kernel/events/decider";
import { given } from "../../src/kernel/events/decider-spec";
import { type ${n.Type}Event, ${n.type}Decider } from "../../src/modules/${n.name}/domain";

const T0 = "2026-03-01T09:00:00.000Z";
const T1 = "2026-03-01T10:00:00.000Z";
const at = (now: string): DecideContext => ({ now, actor: { kind: "user", id: "u_ada" } });
const created: ${n.Type}Event = {
  type: "${n.name}.${n.type}.created",
  data: { id: "x1", name: "First", created_by: "u_ada", created_at: T0 },
};

describe("${n.type}: create", () => {
  it("creates ${n.a} at the context's time, with the trimmed name", () => {
    const command = ${n.type}Decider.commandSchema.parse({ type: "create", id: "x1", name: "  First ", created_by: "u_ada" });
    const { state } = given(${n.type}Decider, []).when(command, at(T0)).then([created]);
    expect(state).toEqual({ status: "active", ...created.data, updated_at: T0 });
  });

  it("refuses a second create with ${n.type}_exists", () => {
    given(${n.type}Decider, [created]).when({ type: "create", id: "x1", name: "Again", created_by: "u_bo" }).thenError("${n.type}_exists");
  });
});

describe("${n.type}: rename", () => {
  it("renames, and a rename to the same name emits nothing", () => {
    const { state } = given(${n.type}Decider, [created])
      .when({ type: "rename", name: "Second" }, at(T1))
      .then([{ type: "${n.name}.${n.type}.renamed", data: { name: "Second", renamed_at: T1 } }]);
    expect(state).toMatchObject({ name: "Second", updated_at: T1, created_at: T0 });
    given(${n.type}Decider, [created]).when({ type: "rename", name: "First" }).then([]);
  });

  it("refuses to rename ${n.a} that does not exist with not_found", () => {
    given(${n.type}Decider, []).when({ type: "rename", name: "Ghost" }).thenError("not_found");
  });
});
`;

/** @param {Names} n */
export const httpTest = (
  n,
) => `// The ${n.name} module over HTTP: create, read (strong and eventual), list, rename with If-Match, permissions.
import { describe, expect, it } from "vitest";
import { call, newKey, newTenant, newUser } from "../identity/helpers";

const base = "${n.url}";

/** Polls the eventually consistent list until \`ready\` holds (the projection runs from the queue). */
async function listed(token: string, ready: (items: { id: string; name: string }[]) => boolean) {
  for (let i = 0; i < 200; i++) {
    const res = await call(base, { token });
    const items = res.body.items as { id: string; name: string }[];
    if (ready(items)) return items;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the list never showed the expected ${n.plural}");
}

describe("${n.name} over HTTP", () => {
  it("creates, reads at once with consistency=strong, lists, and renames with If-Match", async () => {
    const t = await newTenant("${n.name}");
    const created = await call(base, { token: t.adminKey, body: { name: "First" } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // Exactly the fields the OpenAPI document declares: nothing of the state it does not show.
    expect(created.body).toEqual({
      id: expect.any(String),
      name: "First",
      status: "active",
      created_by: expect.any(String),
      version: 1,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const id = created.body.id as string;
    expect(created.headers.get("location")).toBe(\`\${base}/\${id}\`);
    const strong = await call(\`\${base}/\${id}?consistency=strong\`, { token: t.adminKey });
    expect(strong.status).toBe(200);
    expect(strong.headers.get("etag")).toBe('"1"');
    await listed(t.adminKey, (items) => items.some((i) => i.id === id));
    const stale = await call(\`\${base}/\${id}\`, {
      method: "PATCH",
      token: t.adminKey,
      body: { name: "Second" },
      headers: { "if-match": '"7"' },
    });
    expect(stale.status).toBe(412);
    const renamed = await call(\`\${base}/\${id}\`, {
      method: "PATCH",
      token: t.adminKey,
      body: { name: "Second" },
      headers: { "if-match": '"1"' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: "Second", version: 2 });
    const items = await listed(t.adminKey, (list) => list.some((i) => i.id === id && i.name === "Second"));
    expect(items.find((i) => i.id === id)).toMatchObject({ name: "Second", version: 2 });
  });

  it("lets a new tenant's members read ${n.plural} (the manifest's grant) but create none", async () => {
    const t = await newTenant("${n.name}m");
    const created = await call(base, { token: t.adminKey, body: { name: "Shared" } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const member = await newUser(t.slug);
    const read = await call(\`\${base}/\${created.body.id}?consistency=strong\`, { token: member.access_token });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect((await call(base, { token: member.access_token })).status).toBe(200);
    expect((await call(base, { token: member.access_token, body: { name: "Mine" } })).status).toBe(403);
  });

  it("answers 404 for an unknown id and refuses principals without the permissions", async () => {
    const t = await newTenant("${n.name}z");
    expect((await call(\`\${base}/nope\`, { token: t.adminKey })).status).toBe(404);
    expect((await call(\`\${base}/nope?consistency=strong\`, { token: t.adminKey })).status).toBe(404);
    const member = await newUser(t.slug);
    const refused = await call(base, { token: member.access_token, body: { name: "Mine" } });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toBe("missing permission ${n.name}.${n.type}.create");
    const reader = await newKey(t.adminKey, ["${n.name}.${n.type}.read"]);
    expect((await call(base, { token: reader.key })).status).toBe(200);
    expect((await call(base, { token: reader.key, body: { name: "x" } })).status).toBe(403);
    expect((await call(base, { token: t.adminKey, body: { name: "" } })).status).toBe(400);
    // A cursor that is no ${n.type} id is refused, not read as "from the start".
    expect((await call(\`\${base}?cursor=garbage\`, { token: t.adminKey })).status).toBe(400);
  });
});
`;

/** @param {Names} n */
export const projectionTest = (
  n,
) => `// The ${n.type} projection: the same row whatever the order and number of deliveries, gaps filled from the writer.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { aggregateOf } from "../../src/kernel/events/aggregate-rpc";
import type { Envelope } from "../../src/kernel/events/envelope";
import { loadRow } from "../../src/kernel/events/projection";
import { ${n.type}Decider } from "../../src/modules/${n.name}/domain";
import { ${n.type}Projection, ${n.type}Rows } from "../../src/modules/${n.name}/projection";
import { deliver as applied } from "../helpers";
import { call, newTenant } from "../identity/helpers";

const tenantId = \`t-\${crypto.randomUUID()}\`;
const envelope = (version: number, type: string, data: Record<string, unknown>): Envelope => ({
  id: \`e-\${tenantId}-\${version}\`,
  type,
  tenant_id: tenantId,
  stream: \`\${tenantId}/${n.type}/x1\`,
  version,
  occurred_at: "2026-03-01T09:00:00.000Z",
  actor: { kind: "user", id: "u_ada" },
  request_id: null,
  data,
});
const created = envelope(1, "${n.name}.${n.type}.created", {
  id: "x1",
  name: "First",
  created_by: "u_ada",
  created_at: "2026-03-01T09:00:00.000Z",
});
const renamed = envelope(2, "${n.name}.${n.type}.renamed", { name: "Second", renamed_at: "2026-03-01T10:00:00.000Z" });

describe("${n.type} projection", () => {
  it("applies each version once, in order, whatever arrives twice or late", async () => {
    const deliver = (e: Envelope) => applied(${n.type}Projection, [e]);
    await deliver(created);
    await deliver(created);
    await deliver(renamed);
    await deliver(created);
    await deliver(renamed);
    const row = await loadRow(${n.type}Rows, env, { tenantId, id: "x1" });
    expect(row).toEqual({
      version: 2,
      state: {
        status: "active",
        id: "x1",
        name: "Second",
        created_by: "u_ada",
        created_at: "2026-03-01T09:00:00.000Z",
        updated_at: "2026-03-01T10:00:00.000Z",
      },
    });
  });

  // A missing version is read from the aggregate's writer, which holds only what was committed
  // there: envelopes made by hand cannot skip one. A test of gaps (or of any order) writes
  // through the routes and delivers the writer's own events (docs/modules.md, "Tests").
  it("fills a gap from the ${n.type}'s writer: its last event alone yields the whole row", async () => {
    const t = await newTenant("${n.name}p");
    const made = await call("${n.url}", { token: t.adminKey, body: { name: "Gap" } });
    const id = made.body.id as string;
    await call(\`${n.url}/\${id}\`, { method: "PATCH", token: t.adminKey, body: { name: "Filled" } });
    const last = (await aggregateOf(env, ${n.type}Decider, t.id, id).read(1, 100)).at(-1);
    if (!last) throw new Error("the writer has no events");
    await env.DB.prepare("delete from ${n.table} where tenant_id = ? and id = ?").bind(t.id, id).run();
    await applied(${n.type}Projection, [last]);
    const row = await loadRow(${n.type}Rows, env, { tenantId: t.id, id });
    expect(row).toMatchObject({ version: 2, state: { status: "active", name: "Filled" } });
  });
});
`;

/** @param {Names} n */
export const sweep = (n) => `import type { ModuleSweep } from "../modules";

const base = "${n.url}";

/** The ${n.name} module in the Prism sweep (test/node/prism-proxy.test.ts): a valid request per operation. */
export const sweep: ModuleSweep = {
  samples: {
    [\`POST \${base}\`]: { name: "Sample" },
    [\`PATCH \${base}/{id}\`]: { name: "Sample" },
  },
  async valid(s, fx) {
    const admin = { authorization: \`Bearer \${fx.adminKey}\` };
    const valid = { intent: "valid" as const, label: "admin key", headers: admin };
    const created = await s.need<{ id: string }>({ ...valid, op: \`POST \${base}\`, expect: 201, json: { name: "Swept" } });
    const params = { id: created.id };
    // The live id the error requests derived from the document use (test/node/proxy/errors.ts):
    // without it a stale If-Match is sent to ${n.a} that does not exist, a 404 instead of a 412.
    fx.ids[\`\${base}/\`] = created.id;
    await s.call({ ...valid, op: \`GET \${base}\`, expect: 200 });
    await s.call({ ...valid, op: \`GET \${base}/{id}\`, expect: 200, params, query: { consistency: "strong" } });
    await s.call({ ...valid, op: \`PATCH \${base}/{id}\`, expect: 200, params, json: { name: "Renamed" } });
  },
};
`;

/** @param {Names} n */
export const isolation = (n) => `import { call } from "../../identity/helpers";
import type { ModuleIsolationSeed } from "../isolation-modules";

/**
 * The ${n.name} module in the tenant-isolation walk (test/gateway/tenant-isolation.test.ts): ${n.a} in
 * each of its two tenants, whose id fills \`${n.url}/{id}\`. Give each resource of a new kind your
 * paths name one here, its names carrying \`t.mark\`, so an answer to the other tenant showing it is a leak.
 */
export const seed: ModuleIsolationSeed = async (t) => {
  const made = await call("${n.url}", { token: t.adminKey, body: { name: \`${n.Type} \${t.mark}\` } });
  if (made.status !== 201) throw new Error(\`${n.url}: \${made.status} \${JSON.stringify(made.body)}\`);
  return { "${n.url}": String(made.body.id) };
};
`;
