// Shipped storage is append-only: an object or a database that applied a schema version or a
// migration never runs it again, so one edited after it shipped reaches only what is created
// later (0009 and TenantDirectory's version 9 were). `npm run generate` records each migration
// and schema version (src/generated/shipped-storage.json); `--check` names the edited one.
// Run over a copy of this repository's migrations, sources and record.
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrationHash, RECORD, shippedStorage } from "../../scripts/lib/shipped-storage.mjs";

const root = join(import.meta.dirname, "..", "..");
let copy = "";

beforeEach(() => {
  copy = mkdtempSync(join(tmpdir(), "plinth-shipped-"));
  for (const dir of ["migrations", "src", "durable-objects", "wasm"])
    cpSync(join(root, dir), join(copy, dir), { recursive: true });
  // The schemas are bundled into node_modules/.cache and import their packages from there.
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
});
afterEach(() => rmSync(copy, { recursive: true, force: true }));

const edit = (file: string, from: string, to: string) => {
  const path = join(copy, file);
  const text = readFileSync(path, "utf8");
  expect(text).toContain(from);
  writeFileSync(path, text.replace(from, to));
};
const record = () => readFileSync(join(copy, RECORD), "utf8");

describe("npm run generate: what has shipped", () => {
  it("passes the check on the repository as committed", async () => {
    expect(await shippedStorage(copy, { check: true })).toEqual({ problems: [], wrote: false });
  });

  it("names a recorded migration whose text was edited, and never records the edit", async () => {
    const before = record();
    edit(
      "migrations/0009_tenant_suspension.sql",
      "ALTER TABLE `tenants` ADD `suspended_reason` text;",
      "ALTER TABLE `tenants` ADD `suspended_reason` text;--> statement-breakpoint\nALTER TABLE `tenants` ADD `note` text;",
    );
    const checked = await shippedStorage(copy, { check: true });
    expect(checked.problems).toEqual([
      expect.stringContaining("migrations/0009_tenant_suspension.sql has shipped and was edited"),
    ]);
    expect(checked.problems[0]).toContain("append a new migration instead");
    expect(checked.problems[0]).toContain('docs/operations.md, "Deploys, upgrades, rollback"');
    // Generating does not take the edit as the new truth: the check stays red.
    const generated = await shippedStorage(copy, { check: false });
    expect(generated.problems).toHaveLength(1);
    expect(record()).toBe(before);
  });

  it("takes a migration whose only change is its line endings as the same file", async () => {
    const path = join(copy, "migrations", "0009_tenant_suspension.sql");
    writeFileSync(path, readFileSync(path, "utf8").replace(/\n/g, "\r\n"));
    expect(migrationHash(readFileSync(path, "utf8"))).toBe(
      migrationHash(readFileSync(join(root, "migrations", "0009_tenant_suspension.sql"), "utf8")),
    );
    expect((await shippedStorage(copy, { check: true })).problems).toEqual([]);
  });

  it("names a recorded schema version whose statement was edited, by schema and version", async () => {
    edit(
      "src/modules/identity/directory/schema.ts",
      "`alter table tenant add column suspended_reason text`,",
      "`alter table tenant add column suspended_reason text`,\n    `alter table tenant add column note text`,",
    );
    const { problems } = await shippedStorage(copy, { check: true });
    expect(problems).toEqual([
      expect.stringContaining("DIRECTORY_SCHEMA version 9 has shipped and its statements were edited"),
    ]);
    expect(problems[0]).toContain("append a new version instead");
  });

  it("names each shipped version a shared part (the outbox's table) was edited in", async () => {
    edit("src/kernel/outbox/index.ts", "created_at text not null\n", "created_at text not null,\n     note text\n");
    const { problems } = await shippedStorage(copy, { check: true });
    expect(problems.map((p) => p.split(" has shipped")[0])).toEqual([
      "generate: ACTOR_BASE_SCHEMA version 1",
      "generate: AGGREGATE_SCHEMA version 1",
      "generate: DIRECTORY_SCHEMA version 1",
    ]);
  });

  it("says in a line when the schemas cannot be loaded", async () => {
    writeFileSync(
      join(copy, "durable-objects", "broken.ts"),
      'import "./nowhere";\nexport const BROKEN_SCHEMA = [[]];\n',
    );
    const { problems } = await shippedStorage(copy, { check: true });
    expect(problems).toEqual([expect.stringMatching(/^generate: cannot load the schemas .*nowhere/)]);
  });

  it("fails the check for a new migration until generate appends it, leaving the others as they were", async () => {
    const before = JSON.parse(record());
    writeFileSync(
      join(copy, "migrations", "0999_orders.sql"),
      "CREATE TABLE `orders` (`id` text PRIMARY KEY NOT NULL);\n",
    );
    expect((await shippedStorage(copy, { check: true })).problems).toEqual([
      `generate: migrations/0999_orders.sql is not in ${RECORD}; run \`npm run generate\` and commit it`,
    ]);
    expect(await shippedStorage(copy, { check: false })).toEqual({ problems: [], wrote: true });
    const after = JSON.parse(record());
    expect(after.migrations).toEqual({
      ...before.migrations,
      "0999_orders.sql": expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(after.schemas).toEqual(before.schemas);
    expect(await shippedStorage(copy, { check: true })).toEqual({ problems: [], wrote: false });
  });

  it("fails the check for a new schema version until generate appends it", async () => {
    const before = JSON.parse(record());
    edit(
      "src/modules/identity/directory/schema.ts",
      '[addColumnIfMissing("tenant", "version", "integer not null default 1")],\n];',
      '[addColumnIfMissing("tenant", "version", "integer not null default 1")],\n  [`alter table users add column note text`],\n];',
    );
    const versions = before.schemas.DIRECTORY_SCHEMA.length;
    expect((await shippedStorage(copy, { check: true })).problems).toEqual([
      `generate: DIRECTORY_SCHEMA version ${versions + 1} is not in ${RECORD}; run \`npm run generate\` and commit it`,
    ]);
    await shippedStorage(copy, { check: false });
    const after = JSON.parse(record());
    expect(after.schemas.DIRECTORY_SCHEMA.slice(0, versions)).toEqual(before.schemas.DIRECTORY_SCHEMA);
    expect(after.schemas.DIRECTORY_SCHEMA).toHaveLength(versions + 1);
    expect((await shippedStorage(copy, { check: true })).problems).toEqual([]);
  });

  it("records a module's own actor schema found by its name, and refuses one it cannot record", async () => {
    const actor = (declare: string) =>
      `import { Actor } from "../src/kernel/actors";\n${declare} [["create table reminders (id integer primary key)"]];\n` +
      `export class RemindersActor extends Actor {\n  constructor(ctx: DurableObjectState, env: Env) {\n` +
      `    super(ctx, env, {\n      name: "RemindersActor",\n      schema: REMINDERS_ACTOR_SCHEMA,\n    });\n  }\n}\n`;
    const file = join(copy, "durable-objects", "reminders-actor.ts");
    writeFileSync(file, actor("const REMINDERS_ACTOR_SCHEMA: readonly string[][] ="));
    expect((await shippedStorage(copy, { check: true })).problems).toEqual([
      expect.stringContaining(
        "durable-objects/reminders-actor.ts gives its Actor's schema option the schema REMINDERS_ACTOR_SCHEMA, which npm run generate cannot record: declare it as `export const <NAME>_SCHEMA`",
      ),
    ]);
    // Nor a list written in place, which has no name to record it under.
    writeFileSync(
      file,
      actor("const OTHER: readonly string[][] =").replace(
        "schema: REMINDERS_ACTOR_SCHEMA",
        'schema: [["create table t (id integer)"]]',
      ),
    );
    expect((await shippedStorage(copy, { check: true })).problems).toEqual([
      expect.stringContaining(
        "durable-objects/reminders-actor.ts gives its Actor's schema option the schema written in place",
      ),
    ]);
    writeFileSync(file, actor("export const REMINDERS_ACTOR_SCHEMA: readonly string[][] ="));
    expect((await shippedStorage(copy, { check: true })).problems).toEqual([
      `generate: REMINDERS_ACTOR_SCHEMA version 1 is not in ${RECORD}; run \`npm run generate\` and commit it`,
    ]);
    await shippedStorage(copy, { check: false });
    expect(JSON.parse(record()).schemas.REMINDERS_ACTOR_SCHEMA).toHaveLength(1);
  });

  it("names a recorded migration that was removed", async () => {
    rmSync(join(copy, "migrations", "0009_tenant_suspension.sql"));
    expect((await shippedStorage(copy, { check: true })).problems).toEqual([
      expect.stringContaining(
        "migrations/0009_tenant_suspension.sql has shipped (src/generated/shipped-storage.json) but is gone",
      ),
    ]);
  });

  it("names a recorded schema version that was removed, and a schema name exported twice", async () => {
    edit("durable-objects/job-runner.ts", '  ["alter table runs add column result text"],\n', "");
    writeFileSync(join(copy, "durable-objects", "other.ts"), 'export const JOB_RUNNER_SCHEMA = [["select 1"]];\n');
    const { problems } = await shippedStorage(copy, { check: true });
    expect(problems).toEqual([
      expect.stringContaining(
        "JOB_RUNNER_SCHEMA is exported by both durable-objects/job-runner.ts and durable-objects/other.ts",
      ),
      expect.stringContaining("JOB_RUNNER_SCHEMA version 2 has shipped but is gone"),
    ]);
  });
});
