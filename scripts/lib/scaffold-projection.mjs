// The files `plinth new module <name> --projection <publisher>` writes: a module with no aggregate
// of its own, whose read model follows another module's events (docs/modules.md, "A projection of
// another module's events"). What it keeps is what every envelope carries (its stream, version,
// type and time), never the publisher's data: the same templates are right for any publisher.
// scaffold.mjs puts them where they go; the module's name checks are its own.

/**
 * The names a projection is written with. `types` are the publisher's event types as the registry
 * reads them when the scaffold runs; `depends` its `depends_on`.
 * @typedef {{ name: string, Name: string, publisher: string, types: readonly string[], depends: Record<string, string>, table: string, url: string, permission: string }} ProjectionNames
 */

/**
 * @param {string} name @param {{ name: string, version: string }} publisher
 * @param {readonly string[]} types @returns {ProjectionNames}
 */
export function projectionNamesOf(name, publisher, types) {
  // Its grant names the tenants' default roles, which identity declares: the aggregate scaffold's dependency too.
  const depends = { identity: "^1.0.0", [publisher.name]: `^${publisher.version}` };
  return {
    name,
    Name: name[0].toUpperCase() + name.slice(1),
    publisher: publisher.name,
    types: [...types],
    depends,
    table: `${name}_streams`,
    url: `/api/v1/${name}`,
    permission: `${name}.stream.read`,
  };
}

/**
 * Why `--projection <publisher>` cannot be written, or null: a module that is not registered, or
 * one that publishes no events, named with those that do.
 * @param {string} publisher
 * @param {readonly { name: string, types: readonly string[] }[]} registered every module with its published types
 */
export function publisherProblem(publisher, registered) {
  const publishing = registered.filter((m) => m.types.length > 0).map((m) => m.name);
  const those =
    publishing.length > 0 ? `modules publishing events: ${publishing.join(", ")}` : "no module publishes events";
  const found = registered.find((m) => m.name === publisher);
  if (!found) return `--projection: no module "${publisher}" is registered (${those})`;
  if (found.types.length === 0) return `--projection: the module "${publisher}" publishes no events (${those})`;
  return null;
}

/** @param {ProjectionNames} n */
export const manifest = (n) => `/** The \`${n.name}\` module. Read by \`npm run generate\`: imports nothing. */
export const manifest = {
  name: "${n.name}",
  version: "0.1.0",
  description: "The ${n.publisher} module's streams, as its events reach them.",
  // The publisher of the events it follows: the registry refuses the module without it.
  depends_on: ${JSON.stringify(n.depends).replaceAll(",", ", ")},
  permissions: ["${n.permission}"],
  // Without a grant no permission of a new module reaches a tenant's members, and a member's
  // first call is 403. Owners and admins hold every permission already, viewers every read.
  // Existing tenants get it from the hourly tenants/apply-grants: docs/modules.md, "Permissions and roles".
  grants: { member: ["${n.permission}"] },
} as const;
`;

/** @param {ProjectionNames} n */
export const readModel = (n) => `import { and, asc, eq, gt } from "drizzle-orm";
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { ReadModelDb } from "../../kernel/read-models";

/**
 * The ${n.name} read model: one row per ${n.publisher} stream (\`<tenant>/<type>/<id>\`) whose
 * events it has seen, from what every envelope carries: the highest version seen (an aggregate's
 * versions run 1, 2, 3…, so its event count once every event arrived), the type of that event, and
 * the earliest and latest \`occurred_at\`. Each column is a max or a min, so the row is the same
 * whatever the order and number of deliveries (docs/modules.md, "A projection of another module's events").
 */
export const ${n.name}Streams = sqliteTable(
  "${n.table}",
  {
    tenant_id: text("tenant_id").notNull(),
    stream: text("stream").notNull(),
    version: integer("version").notNull(),
    last_type: text("last_type").notNull(),
    first_occurred_at: text("first_occurred_at").notNull(),
    last_occurred_at: text("last_occurred_at").notNull(),
  },
  // Starts with tenant_id: the tenant's erasure deletes its rows, and the list reads them in stream order.
  (t) => [primaryKey({ columns: [t.tenant_id, t.stream] })],
);

/** A tenant's streams in stream order after \`cursor\`. Runs on D1 or libSQL (docs/read-models.md). */
export function list${n.Name}Streams(db: ReadModelDb, f: { tenantId: string; cursor?: string; limit: number }) {
  const t = ${n.name}Streams;
  return db
    .select()
    .from(t)
    .where(and(eq(t.tenant_id, f.tenantId), gt(t.stream, f.cursor ?? "")))
    .orderBy(asc(t.stream))
    .limit(f.limit);
}
`;

/** @param {ProjectionNames} n */
export const projection = (n) => `import { sql } from "drizzle-orm";
import type { Subscription } from "../../kernel/modules/types";
import { readModels } from "../../kernel/read-models";
import { ${n.name}Streams } from "./read-model";

const t = ${n.name}Streams;

/**
 * \`${n.table}\`, from the ${n.publisher} module's events: a batched subscription whose writes are
 * upserts of maxima and minima, so an event applied again (a \`--rebuild\`, a catch-up older than the
 * ledger) or out of order changes nothing. It reads no event's data, so any event of the publisher
 * fits it. \`types\` are the events ${n.publisher} published when this was written: \`plinth modules
 * validate\` names one it stops publishing; add the ones it gains.
 */
export const ${n.name}Projection: Subscription = {
  name: "streams",
  types: ${JSON.stringify(n.types)},
  async handleBatch(envelopes, { env }) {
    const db = readModels(env);
    const writes = envelopes.map((e) =>
      db
        .insert(t)
        .values({
          tenant_id: e.tenant_id,
          stream: e.stream,
          version: e.version,
          last_type: e.type,
          first_occurred_at: e.occurred_at,
          last_occurred_at: e.occurred_at,
        })
        .onConflictDoUpdate({
          target: [t.tenant_id, t.stream],
          // SQLite evaluates every right-hand side against the row before the update.
          set: {
            version: sql\`max(\${t.version}, excluded.version)\`,
            last_type: sql\`case when excluded.version > \${t.version} then excluded.last_type else \${t.last_type} end\`,
            first_occurred_at: sql\`min(\${t.first_occurred_at}, excluded.first_occurred_at)\`,
            last_occurred_at: sql\`max(\${t.last_occurred_at}, excluded.last_occurred_at)\`,
          },
        }),
    );
    return { writes };
  },
};
`;

/** @param {ProjectionNames} n */
export const routes = (n) => `import { z } from "@hono/zod-openapi";
import { PERMISSIONS } from "../../generated/permissions";
import { tenantOf } from "../../kernel/auth/guards";
import { query } from "../../kernel/cqrs/query-bus";
import { jsonResponse, listOf, PageQuery, page } from "../../kernel/openapi/blocks";
import { operations } from "../../kernel/openapi/operation";
import { createRouter } from "../../kernel/openapi/router";
import { readModels } from "../../kernel/read-models";
import { list${n.Name}Streams } from "./read-model";

/** A ${n.publisher} stream as the API shows it: the row, without its tenant. */
const StreamSchema = z
  .object({
    stream: z.string(),
    version: z.number().int(),
    last_type: z.string(),
    first_occurred_at: z.string(),
    last_occurred_at: z.string(),
  })
  .openapi("${n.Name}Stream");

const op = operations(["${n.name}"]);

const list = op.get("/", {
  operationId: "list${n.Name}Streams",
  summary: "List the ${n.publisher} streams seen (eventually consistent), by stream",
  access: PERMISSIONS.${n.name}.stream.read,
  // A cursor is a stream this list returned; any other string is only a place in the order.
  request: { query: PageQuery.extend({ cursor: z.string().max(512).optional() }) },
  responses: { 200: jsonResponse("a page of streams", listOf(StreamSchema)) },
});

/** \`${n.url}\`: the caller's tenant's rows only. */
export const ${n.name}Routes = createRouter().openapi(list, async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const rows = await query(c, {
    name: "${n.name}.stream.list",
    consistency: "eventual",
    eventual: () => list${n.Name}Streams(readModels(c.env), { tenantId: tenantOf(c).id, cursor, limit: limit + 1 }),
  });
  const items = rows.map((r) => StreamSchema.parse(r));
  return c.json(
    page(items, limit, (i) => i.stream),
    200,
  );
});
`;

/** @param {ProjectionNames} n */
export const index = (n) => `import type { ModuleDef } from "../../kernel/modules/types";
import { manifest } from "./manifest";
import { ${n.name}Projection } from "./projection";
import { ${n.name}Streams } from "./read-model";
import { ${n.name}Routes } from "./routes";

/**
 * The \`${n.name}\` module factory: no aggregate of its own; a projection of the ${n.publisher}
 * module's events into \`${n.table}\` (erased with its tenant: it is in \`tables\`), read at \`${n.url}\`.
 */
export const ${n.name} = () =>
  ({
    ...manifest,
    tables: { ${n.name}Streams },
    routes: ${n.name}Routes,
    events: { subscribes: [${n.name}Projection] },
  }) satisfies ModuleDef;
`;

/** @param {ProjectionNames} n */
export const projectionTest = (n) => {
  // Three events of one stream and one of another, of the publisher's own types (any will do: the
  // projection reads none of their data).
  const type = (i) => n.types[i % n.types.length];
  return `// The ${n.name} projection of ${n.publisher}'s events: the same rows however often and in whatever
// order they arrive (a rebuild applies them all again), and a route showing a tenant its own.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Envelope } from "../../src/kernel/events/envelope";
import { readModels } from "../../src/kernel/read-models";
import { ${n.name}Projection } from "../../src/modules/${n.name}/projection";
import { list${n.Name}Streams } from "../../src/modules/${n.name}/read-model";
import { deliver, testRuntime } from "../helpers";
import { call, newTenant, newUser } from "../identity/helpers";

const runtime = testRuntime();
/** Applies events as the queue does, even those the ledger recorded: as a rebuild reaches the writes. */
const apply = (events: Envelope[]) => deliver(${n.name}Projection, events, runtime, { fillGaps: true, reapply: true });

/** A stream's event: what every envelope carries, and no data (the projection reads none). */
const event = (tenantId: string, id: string, version: number, type: string, at: string): Envelope => ({
  id: \`e-\${tenantId}-\${id}-\${version}\`,
  type,
  tenant_id: tenantId,
  stream: \`\${tenantId}/thing/\${id}\`,
  version,
  occurred_at: at,
  actor: { kind: "user", id: "u_ada" },
  request_id: null,
  data: {},
});
const history = (tenantId: string) => [
  event(tenantId, "a", 1, "${type(0)}", "2026-03-01T09:00:00.000Z"),
  event(tenantId, "a", 2, "${type(1)}", "2026-03-01T10:00:00.000Z"),
  event(tenantId, "a", 3, "${type(2)}", "2026-03-01T11:00:00.000Z"),
  event(tenantId, "b", 1, "${type(1)}", "2026-03-01T09:30:00.000Z"),
];
/** A tenant's rows, with its id taken out of the streams so two tenants' compare. */
async function rows(tenantId: string) {
  const found = await list${n.Name}Streams(readModels(env), { tenantId, limit: 100 });
  return found.map(({ tenant_id: _tenant, ...row }) => ({ ...row, stream: row.stream.replace(tenantId, "T") }));
}

describe("${n.name} projection", () => {
  it("gives the same rows delivered once, twice, reversed, or one by one from the last", async () => {
    const ordered = \`t-\${crypto.randomUUID()}\`;
    await apply(history(ordered));
    const once = await rows(ordered);
    expect(once).toEqual([
      {
        stream: "T/thing/a",
        version: 3,
        last_type: "${type(2)}",
        first_occurred_at: "2026-03-01T09:00:00.000Z",
        last_occurred_at: "2026-03-01T11:00:00.000Z",
      },
      {
        stream: "T/thing/b",
        version: 1,
        last_type: "${type(1)}",
        first_occurred_at: "2026-03-01T09:30:00.000Z",
        last_occurred_at: "2026-03-01T09:30:00.000Z",
      },
    ]);
    await apply(history(ordered));
    for (const e of history(ordered).reverse()) await apply([e]);
    expect(await rows(ordered)).toEqual(once);
    // Another tenant, its events arriving newest first and each twice: the same rows.
    const reversed = \`t-\${crypto.randomUUID()}\`;
    for (const e of history(reversed).reverse()) {
      await apply([e]);
      await apply([e]);
    }
    expect(await rows(reversed)).toEqual(once);
  });

  it("lists a tenant's streams to its members, page by page, and none of another tenant's", async () => {
    const t = await newTenant("${n.name}");
    const other = await newTenant("${n.name}o");
    await apply([...history(t.id), ...history(other.id)]);
    const member = await newUser(t.slug);
    const first = await call("${n.url}?limit=1", { token: member.access_token });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.items).toEqual([expect.objectContaining({ stream: \`\${t.id}/thing/a\`, version: 3 })]);
    const next = await call(\`${n.url}?limit=1&cursor=\${encodeURIComponent(String(first.body.next_cursor))}\`, {
      token: member.access_token,
    });
    expect(next.body).toEqual({ items: [expect.objectContaining({ stream: \`\${t.id}/thing/b\` })], next_cursor: null });
    const theirs = await call("${n.url}", { token: other.adminKey });
    expect((theirs.body.items as { stream: string }[]).map((i) => i.stream)).toEqual([
      \`\${other.id}/thing/a\`,
      \`\${other.id}/thing/b\`,
    ]);
  });
});
`;
};

/** @param {ProjectionNames} n */
export const sweep = (n) => `import type { ModuleSweep } from "../modules";

/** The ${n.name} module in the Prism sweep (test/node/prism-proxy.test.ts): a valid request per operation. */
export const sweep: ModuleSweep = {
  samples: {},
  async valid(s, fx) {
    const admin = { authorization: \`Bearer \${fx.adminKey}\` };
    await s.call({ intent: "valid", label: "admin key", headers: admin, op: "GET ${n.url}", expect: 200 });
  },
};
`;
