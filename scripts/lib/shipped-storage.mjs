// What has shipped of the storage, recorded so that it is only ever appended to. An object that
// applied a Durable Object schema version, or a D1 database that applied a migration, never runs
// it again: an edit made after it shipped reaches only what is created later (0009 and
// TenantDirectory's version 9 were, and needed repairs). `npm run generate` records a hash of
// each migration file and of each version of each schema it finds, appending the new ones and
// never rewriting one; `--check` (npm test) fails naming the one whose content changed.
//
// A schema is found by convention, so the kernel names no module: an exported constant named
// `<SOMETHING>_SCHEMA` in a .ts file under src/ or durable-objects/ whose value is a list of
// versions (each a list of statements). What passes a schema to `migrateSqlite(`,
// `new LazySchema(` or an Actor's `schema:` option must name one such constant
// (docs/modules.md, "Shipped storage is append-only").
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { importBundled } from "./node-bundle.mjs";

/** Where the record lives: not in migrations/, whose every `*.sql` wrangler applies. */
export const RECORD = "src/generated/shipped-storage.json";
const GUIDE = 'docs/modules.md, "Shipped storage is append-only"';
const REPAIR = 'docs/operations.md, "Deploys, upgrades, rollback"';
const FOLDERS = ["src", "durable-objects"];
const EXPORTED = /^export const ([A-Z][A-Z0-9_]*_SCHEMA)\b/gm;

/** @param {string} text */
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

/** A migration file's hash, its line endings normalised (a checkout with CRLF is the same file). @param {string} sql */
export const migrationHash = (sql) => sha256(sql.replace(/\r\n?/g, "\n"));

/**
 * A schema version's hash: its statements as JSON (SQL, or addColumnIfMissing's object), line
 * endings normalised. @param {readonly unknown[]} statements
 */
export const versionHash = (statements) =>
  sha256(JSON.stringify(statements.map((s) => (typeof s === "string" ? s.replace(/\r\n?/g, "\n") : s))));

/** @param {unknown} value @returns {value is unknown[][]} */
const isVersions = (value) =>
  Array.isArray(value) &&
  value.every(
    (v) =>
      Array.isArray(v) &&
      v.every((s) => typeof s === "string" || (typeof s === "object" && s !== null && "table" in s)),
  );

/** The .ts files under `folder` (no declarations), relative to root. @param {string} root @param {string} folder */
function sources(root, folder) {
  const dir = join(root, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

/**
 * The source of every schema-shaped `export const <NAME>_SCHEMA`, by name, and the problems of
 * the convention: a name exported twice, or a schema handed to migrateSqlite, LazySchema or an
 * Actor under a name that is not one (a `const SCHEMA` of a module's actor, unexported, would
 * escape the record). @param {string} root
 */
export function schemaSources(root) {
  /** @type {Map<string, string>} */
  const files = new Map();
  /** @type {string[]} */
  const problems = [];
  /** @type {{ file: string, name: string, how: string }[]} */
  const uses = [];
  for (const file of FOLDERS.flatMap((f) => sources(root, f))) {
    const text = readFileSync(join(root, file), "utf8");
    for (const [, name] of text.matchAll(EXPORTED)) {
      const other = files.get(name);
      if (other)
        problems.push(
          `generate: ${name} is exported by both ${other} and ${file}; a schema's name is its key in ${RECORD}: rename one`,
        );
      else files.set(name, file);
    }
    for (const [, name] of text.matchAll(/\bmigrateSqlite\(\s*[^,()]+,\s*(\[|[A-Za-z_$][\w$.]*\s*[,)])/g))
      uses.push({ file, name, how: "migrateSqlite" });
    for (const [, name] of text.matchAll(/\bnew LazySchema\(\s*[^,()]+,\s*(\[|[A-Za-z_$][\w$.]*\s*[,)])/g))
      uses.push({ file, name, how: "LazySchema" });
    if (/\bextends Actor\b/.test(text))
      for (const [, name] of text.matchAll(/\bschema:\s*(\[|[A-Za-z_$][\w$.]*\s*[,}\n])/g))
        uses.push({ file, name, how: "its Actor's schema option" });
  }
  for (const use of uses) {
    const { file, how } = use;
    // The identifier, without what ended it; `[`, a list written in place, has no name to record.
    const name = use.name.replace(/[\s,)}]+$/, "");
    // The kernel's own pass-throughs (the actor base and LazySchema hand on what they were given).
    if (name.startsWith("this.")) continue;
    if (!files.has(name))
      problems.push(
        `generate: ${file} gives ${how} the schema ${name === "[" ? "written in place" : name}, which npm run generate cannot record: declare it as \`export const <NAME>_SCHEMA\` (a name of its own) so each version is kept as shipped (${GUIDE})`,
      );
  }
  return { files, problems };
}

/**
 * The versions of each schema, loaded in Node from the files declaring them (bundled, as the
 * generator loads the manifests; `cloudflare:workers` given a bare DurableObject).
 * @param {string} root @param {Map<string, string>} files name → file
 * @returns {Promise<Map<string, unknown[][]>>}
 */
export async function loadSchemas(root, files) {
  const names = [...files.keys()];
  if (names.length === 0) return new Map();
  const entry = names.map((n, i) => `export { ${n} as s${i} } from ${JSON.stringify(`./${files.get(n)}`)};`).join("\n");
  // A name of its own each time: a loader that keys modules by path alone (vitest's) would
  // otherwise answer a second load in one process with the first's schemas.
  const out = join(root, "node_modules", ".cache", "plinth-generate", `schemas-${randomUUID()}.mjs`);
  const loaded = await importBundled(
    out,
    {
      stdin: { contents: entry, resolveDir: root, loader: "ts" },
      plugins: [
        {
          name: "workers-stub",
          setup(/** @type {any} */ b) {
            b.onResolve({ filter: /^cloudflare:/ }, (/** @type {any} */ a) => ({ path: a.path, namespace: "stub" }));
            b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
              contents:
                "export const env = {}; export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } } export class WorkerEntrypoint {}",
              loader: "js",
            }));
          },
        },
      ],
    },
    { remove: true },
  );
  /** @type {Map<string, unknown[][]>} */
  const schemas = new Map();
  names.forEach((name, i) => {
    const value = loaded[`s${i}`];
    // Parts of a schema (the outbox's statements, one table's) are recorded in the schemas using them.
    if (isVersions(value)) schemas.set(name, value);
  });
  return schemas;
}

/**
 * @typedef {{ migrations: Record<string, string>, schemas: Record<string, string[]> }} ShippedRecord
 */

/**
 * Compares what is there with the record: the problems (an entry whose content changed, one
 * gone, one not recorded yet when `check`), and the record with the new entries appended.
 * @param {ShippedRecord} record @param {Record<string, string>} migrations name → sql
 * @param {Map<string, readonly (readonly unknown[])[]>} schemas @param {boolean} check
 * @returns {{ problems: string[], next: ShippedRecord }}
 */
export function compare(record, migrations, schemas, check) {
  /** @type {string[]} */
  const problems = [];
  const next = { migrations: { ...record.migrations }, schemas: { ...record.schemas } };
  const instead = (/** @type {string} */ what) =>
    `${what} instead; for a repair of one already edited see ${REPAIR} (one that never left this machine is yours to redo: delete its entry from ${RECORD})`;
  for (const [name, hash] of Object.entries(record.migrations)) {
    const sql = migrations[name];
    if (sql === undefined)
      problems.push(
        `generate: migrations/${name} has shipped (${RECORD}) but is gone: a database that applied it keeps it, so restore it; one renumbered after a merge of plinth's updates (\`plinth db renumbered\`) has its entry deleted from ${RECORD} by hand (docs/operations.md, "Taking plinth's updates")`,
      );
    else if (migrationHash(sql) !== hash)
      problems.push(
        `generate: migrations/${name} has shipped and was edited: databases that applied it never see the change; restore it (git checkout) and ${instead("append a new migration")}`,
      );
  }
  for (const [name, hashes] of Object.entries(record.schemas)) {
    const versions = schemas.get(name);
    if (!versions) {
      problems.push(
        `generate: the schema ${name} has shipped (${RECORD}) but no \`export const ${name}\` holds it any more; restore it (a schema is renamed by keeping its old name), or, for an object class retired with a deleted_classes migration, remove its entry from ${RECORD} in the same commit`,
      );
      continue;
    }
    hashes.forEach((hash, i) => {
      const statements = versions[i];
      if (statements === undefined)
        problems.push(
          `generate: ${name} version ${i + 1} has shipped but is gone: objects that applied it keep it; restore it and ${instead("append a new version")}`,
        );
      else if (versionHash(statements) !== hash)
        problems.push(
          `generate: ${name} version ${i + 1} has shipped and its statements were edited: objects that applied it never run the change; restore it and ${instead("append a new version")}`,
        );
    });
  }
  const added = [];
  for (const name of Object.keys(migrations).sort()) {
    if (name in record.migrations) continue;
    next.migrations[name] = migrationHash(migrations[name] ?? "");
    added.push(`migrations/${name}`);
  }
  for (const [name, versions] of [...schemas].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const hashes = record.schemas[name] ?? [];
    if (versions.length <= hashes.length) continue;
    next.schemas[name] = [...hashes, ...versions.slice(hashes.length).map((v) => versionHash(v))];
    for (let i = hashes.length; i < versions.length; i++) added.push(`${name} version ${i + 1}`);
  }
  if (check)
    for (const what of added)
      problems.push(`generate: ${what} is not in ${RECORD}; run \`npm run generate\` and commit it`);
  return { problems, next };
}

/** The record as written: keys sorted, so an append is a diff of added lines. @param {ShippedRecord} r */
export function recordText(r) {
  const sorted = (/** @type {Record<string, unknown>} */ o) =>
    Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, o[k]]),
    );
  return `${JSON.stringify({ migrations: sorted(r.migrations), schemas: sorted(r.schemas) }, null, 2)}\n`;
}

/**
 * The generator's step: reads the record, the migrations and the schemas under `root`; with
 * `check` returns every problem, without it also writes the record with the new entries
 * appended (an edited entry is never rewritten: its problem is returned either way).
 * @param {string} root @param {{ check: boolean }} how
 * @returns {Promise<{ problems: string[], wrote: boolean }>}
 */
export async function shippedStorage(root, { check }) {
  const path = join(root, RECORD);
  /** @type {ShippedRecord} */
  const record = existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : { migrations: {}, schemas: {} };
  const dir = join(root, "migrations");
  const migrations = Object.fromEntries(
    (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".sql")) : []).map((f) => [
      f,
      readFileSync(join(dir, f), "utf8"),
    ]),
  );
  const { files, problems: found } = schemaSources(root);
  let schemas;
  try {
    schemas = await loadSchemas(root, files);
  } catch (error) {
    // esbuild has printed where; a stack trace of its would say neither that nor what to do.
    const why = error instanceof Error ? error.message.split("\n").slice(0, 4).join(" ") : String(error);
    return {
      problems: [
        ...found,
        `generate: cannot load the schemas to check them against ${RECORD}: ${why}; fix it (npx tsc --noEmit -p tsconfig.json) and run npm run generate again`,
      ],
      wrote: false,
    };
  }
  const { problems, next } = compare(record, migrations, schemas, check);
  const text = recordText(next);
  const wrote = !check && (!existsSync(path) || readFileSync(path, "utf8") !== text);
  if (wrote) writeFileSync(path, text);
  return { problems: [...found, ...problems], wrote };
}
