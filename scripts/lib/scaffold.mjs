// `plinth new module <name> [--aggregate <type>]` (or `--projection <publisher>`, with the
// templates of scaffold-projection.mjs and no aggregate): writes a module with the
// anatomy every plinth module shares (manifest, domain, errors, routes, read
// model, projection, index), its tests, its Prism sweep entry and its seed for
// the tenant-isolation walk, registers
// it, generates its D1 migration and the typed permissions. Nothing under
// src/kernel/ changes.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { migrationTables } from "./migration-tables.mjs";
import * as a from "./scaffold-actor.mjs";
import * as p from "./scaffold-projection.mjs";
import * as t from "./scaffold-templates.mjs";

const NAME = /^[a-z][a-z0-9]{1,29}$/;
// The kernel goes by this name where modules go by theirs (its events' owner, its queue consumer
// `kernel:streams`, its bindings, the `module` of its log lines and metrics); the registry refuses
// it too (src/kernel/modules/registry.ts), but only once every file is written.
const RESERVED = new Set(["kernel"]);
// A module's factory is a function of its name (`export const orders = () => …`), imported by
// src/modules/index.ts: a reserved word of JavaScript's strict mode (modules are strict) does
// not parse there, and a name those files already bind clashes with it.
const RESERVED_WORDS = new Set(
  (
    "await break case catch class const continue debugger default delete do else enum export extends false " +
    "finally for function if implements import in instanceof interface let new null package private protected " +
    "public return static super switch this throw true try typeof var void while with yield"
  ).split(" "),
);
const BOUND = new Set(["modules", "manifest"]);

/** The aggregate type a module gets when none is named: its name without a plural `s`, else `item`. */
export function defaultType(name) {
  return name.endsWith("s") && name.length > 3 ? name.slice(0, -1) : "item";
}

/**
 * Checks the names and what is already there; returns the problems (none: go).
 * @param {string} root @param {string} name @param {string} type
 */
export function problemsOf(root, name, type) {
  const problems = nameProblems(root, name);
  if (!NAME.test(type))
    problems.push(`the aggregate type "${type}" must be 2-30 of a-z and 0-9, starting with a letter`);
  if (name === type) problems.push("the module and its aggregate need different names (e.g. orders and order)");
  const table = tableProblem(
    root,
    t.namesOf(name, type).table,
    "(<module>_<aggregate>s)",
    "pick another name or --aggregate",
  );
  if (table) problems.push(table);
  // Streams are <tenant>/<type>/<id>: a second decider of a type would share the first's objects,
  // and the registry refuses it only after every file is written.
  const owner = deciderOf(root, type);
  if (owner)
    problems.push(`the aggregate type "${type}" is already declared (${owner}); pick another with --aggregate`);
  return problems;
}

/**
 * The problems of a `--projection` module named `name` (none: go); its publisher is checked
 * against the registry (scaffold-projection.mjs, `publisherProblem`).
 * @param {string} root @param {string} name
 */
export function projectionProblemsOf(root, name) {
  const problems = nameProblems(root, name);
  const table = tableProblem(root, `${name}_streams`, "(<module>_streams)", "pick another name");
  if (table) problems.push(table);
  return problems;
}

/** What the module's name alone rules out, whatever the module holds. */
function nameProblems(root, name) {
  const problems = [];
  if (!NAME.test(name)) problems.push(`the module name "${name}" must be 2-30 of a-z and 0-9, starting with a letter`);
  if (RESERVED_WORDS.has(name)) {
    problems.push(
      `the module name "${name}" is a reserved word in JavaScript, and the module's factory is a function of its name (export const ${name} = …): pick another name`,
    );
  }
  if (BOUND.has(name)) {
    problems.push(
      `the module name "${name}" is already a name in src/modules/index.ts or the module's own index.ts, where its factory is declared: pick another name`,
    );
  }
  if (RESERVED.has(name)) {
    problems.push(
      `the module name "${name}" is reserved: the kernel's own events, bindings, queue consumers and log lines are named "${name}"`,
    );
  }
  if (existsSync(join(root, "src", "modules", name))) problems.push(`src/modules/${name} already exists`);
  else {
    const served = servedUnder(root, `/api/v1/${name}`);
    if (served.length > 0) {
      const shown = served.length > 2 ? `${served.slice(0, 2).join(", ")}, …` : served.join(", ");
      problems.push(
        `the path /api/v1/${name} is already served (${shown}): a module named "${name}" would mount its routes among them, and those answer first any request both match; pick another name`,
      );
    }
  }
  const index = readFileSync(join(root, "src", "modules", "index.ts"), "utf8");
  if (index.includes(`from "./${name}"`) || new RegExp(`\\b${name}\\(\\)`).test(index)) {
    problems.push(`src/modules/index.ts already registers "${name}"`);
  }
  return problems;
}

/**
 * The operations of the served document (src/generated/openapi.json: the kernel's and every
 * module's) at `prefix` or below it. A module mounts at /api/v1/<name>, so a name another
 * module already uses as a path (identity's /api/v1/users/{id}, with its base path "") gives
 * routes that one answers first: GET /api/v1/users/members is a user id there.
 */
function servedUnder(root, prefix) {
  const file = join(root, "src", "generated", "openapi.json");
  if (!existsSync(file)) return [];
  const { paths = {} } = JSON.parse(readFileSync(file, "utf8"));
  // By path, shortest first: the message names the prefix's own routes, not whichever the document lists first.
  return Object.entries(paths)
    .filter(([path]) => path === prefix || path.startsWith(`${prefix}/`))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
}

/**
 * Why the module's table (`<name>_<type>s`, a projection's `<name>_streams`) cannot be made, or null. drizzle-kit reads every schema
 * as one: a second table of a name already declared (the kernel's dead_letters for `dead` with
 * `letter`) is taken for a change of the first, so it asks whether columns were renamed, and
 * without a terminal writes no migration at all, and exits 0.
 */
function tableProblem(root, table, shape, change) {
  const named = `the table "${table}" ${shape}`;
  if (table.startsWith("sqlite_")) return `${named} is a name SQLite keeps for itself (sqlite_*): pick another name`;
  if (table === "d1_migrations") return `${named} is D1's record of applied migrations: ${change}`;
  const owner = tableOwner(root, table);
  return owner ? `${named} is already declared (${owner}): ${change}` : null;
}

/** The schema file under src declaring table `table`, else the migration that made it, or null. */
function tableOwner(root, table) {
  const declares = new RegExp(`sqliteTable\\(\\s*["'\`]${table}["'\`]`);
  for (const dir of ["src/kernel", "src/modules"]) {
    for (const entry of readdirSync(join(root, dir), { recursive: true })) {
      const file = String(entry);
      if (file.endsWith(".ts") && declares.test(readFileSync(join(root, dir, file), "utf8"))) return `${dir}/${file}`;
    }
  }
  const folder = join(root, "migrations");
  if (!existsSync(folder)) return null;
  const migrations = readdirSync(folder)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((f) => ({ name: f, sql: readFileSync(join(folder, f), "utf8") }));
  const made = Object.entries(migrationTables(migrations)).find(([, tables]) => tables.includes(table));
  return made ? `migrations/${made[0]}` : null;
}

/** The file under src/modules declaring a decider of aggregate type `type` (`type: "<type>"` beside `evolve`), or null. */
function deciderOf(root, type) {
  const modules = join(root, "src", "modules");
  const declares = new RegExp(`^\\s*type: "${type}",\\s*$`, "m");
  for (const entry of readdirSync(modules, { recursive: true })) {
    const file = String(entry);
    if (!file.endsWith(".ts")) continue;
    const text = readFileSync(join(modules, file), "utf8");
    if (declares.test(text) && /\bevolve\b/.test(text)) return `src/modules/${file}`;
  }
  return null;
}

/** Folders whose files the scaffold's steps add or rewrite (drizzle-kit, the generator), and the list it edits. */
const TOUCHED_FOLDERS = ["migrations", join("migrations", "meta"), join("src", "generated")];
// With --actor also the Worker's exports, its bindings and the Env type generated from them.
const TOUCHED_FILES = [
  join("src", "modules", "index.ts"),
  join("src", "index.ts"),
  "wrangler.toml",
  join("src", "worker-env.d.ts"),
];

/**
 * What the scaffold and its steps change, as it is before they run; returns the function that
 * puts it back: removes the files written (relative to `root`) and the module's folder, deletes
 * what the steps added to the touched folders and rewrites what they changed there.
 * @param {string} root @param {string} name
 * @returns {(written: readonly string[]) => void}
 */
export function checkpoint(root, name) {
  const saved = new Map();
  const listed = new Map();
  for (const folder of TOUCHED_FOLDERS) {
    const dir = join(root, folder);
    const files = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()) : [];
    listed.set(folder, new Set(files.map((e) => e.name)));
    for (const e of files) saved.set(join(folder, e.name), readFileSync(join(dir, e.name)));
  }
  for (const file of TOUCHED_FILES) saved.set(file, readFileSync(join(root, file)));
  return (written) => {
    for (const file of written) rmSync(join(root, file), { force: true });
    rmSync(join(root, "src", "modules", name), { recursive: true, force: true });
    for (const [folder, before] of listed) {
      const dir = join(root, folder);
      if (!existsSync(dir)) continue;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isFile() && !before.has(e.name)) rmSync(join(dir, e.name));
      }
    }
    for (const [file, content] of saved) writeFileSync(join(root, file), content);
  };
}

/**
 * Adds the module's import and factory call to src/modules/index.ts; returns the file written.
 * A running `wrangler dev` rebuilds the Worker from then on: call it once the module's
 * permissions are generated (its routes read PERMISSIONS.<name> when they load).
 */
export function register(root, name) {
  const path = join(root, "src", "modules", "index.ts");
  const source = readFileSync(path, "utf8");
  const list = /export const modules: ModuleDef\[\] = \[([^\]]*)\];/;
  if (!list.test(source))
    throw new Error("src/modules/index.ts has no `export const modules: ModuleDef[] = [...]` list");
  const imports = [...source.matchAll(/^import .*;$/gm)];
  const last = imports.at(-1);
  const at = (last?.index ?? 0) + (last?.[0].length ?? 0);
  const withImport = `${source.slice(0, at)}\nimport { ${name} } from "./${name}";${source.slice(at)}`;
  writeFileSync(
    path,
    withImport.replace(list, (_, items) => {
      const entries = items
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      return `export const modules: ModuleDef[] = [${[...entries, `${name}()`].join(", ")}];`;
    }),
  );
  return "src/modules/index.ts";
}

/**
 * Writes the module, unregistered (nothing imports it yet, so a running `wrangler dev` does not
 * rebuild), and returns the files it wrote (relative to `root`); `register` adds it to the list.
 * With `actor`, also its per-tenant actor's contract, class and test (scaffold-actor.mjs), which
 * `exportActor` and `bindActor` then wire.
 * @param {string} root @param {string} name @param {string} type
 * @param {import("./scaffold-actor.mjs").ActorNames} [actor]
 */
export function scaffold(root, name, type, actor) {
  const n = t.namesOf(name, type);
  const dir = join(root, "src", "modules", name);
  const files = {
    [join(dir, "manifest.ts")]: t.manifest(n),
    [join(dir, "errors.ts")]: t.errors(n),
    [join(dir, "domain.ts")]: t.domain(n),
    [join(dir, "read-model.ts")]: t.readModel(n),
    [join(dir, "projection.ts")]: t.projection(n),
    [join(dir, "routes.ts")]: t.routes(n),
    [join(dir, "index.ts")]: t.index(n, actor),
    [join(root, "test", "modules", `${name}-domain.test.ts`)]: t.domainTest(n),
    [join(root, "test", "modules", `${name}-http.test.ts`)]: t.httpTest(n),
    [join(root, "test", "modules", `${name}-projection.test.ts`)]: t.projectionTest(n),
    [join(root, "test", "node", "proxy", "modules", `${name}.ts`)]: t.sweep(n),
    [join(root, "test", "gateway", "isolation", `${name}.ts`)]: t.isolation(n),
    ...(actor
      ? {
          [join(root, actor.contractFile)]: a.contract(actor),
          [join(root, actor.classFile)]: a.actorClass(actor),
          [join(root, actor.testFile)]: a.actorTest(actor),
        }
      : {}),
  };
  return written(root, files);
}

/**
 * Writes a `--projection` module (scaffold-projection.mjs), unregistered as `scaffold` leaves one,
 * and returns the files it wrote. No aggregate, so no domain, errors or isolation seed: its one
 * route has no path parameter for the tenant-isolation walk to fill.
 * @param {string} root @param {import("./scaffold-projection.mjs").ProjectionNames} n
 */
export function scaffoldProjection(root, n) {
  const dir = join(root, "src", "modules", n.name);
  return written(root, {
    [join(dir, "manifest.ts")]: p.manifest(n),
    [join(dir, "read-model.ts")]: p.readModel(n),
    [join(dir, "projection.ts")]: p.projection(n),
    [join(dir, "routes.ts")]: p.routes(n),
    [join(dir, "index.ts")]: p.index(n),
    [join(root, "test", "modules", `${n.name}-projection.test.ts`)]: p.projectionTest(n),
    [join(root, "test", "node", "proxy", "modules", `${n.name}.ts`)]: p.sweep(n),
  });
}

/** Writes `files` (path to content), none of which may exist yet; returns them relative to `root`. */
function written(root, files) {
  for (const path of Object.keys(files)) {
    if (existsSync(path)) throw new Error(`${relative(root, path)} already exists`);
  }
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return Object.keys(files).map((f) => relative(root, f));
}
