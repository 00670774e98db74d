// `plinth new module` on a copy of the repository, plain, with `--actor` and `--projection`: each module it writes
// typechecks and lints as generated, is registered, and touches no kernel file; the actor is wired
// as docs/actors.md's checklist wires one by hand (contract, class, export, wrangler.toml bindings
// in every environment with the next migration tag, erasure). The copy is checked with the
// compiler and the linter, and the tests the scaffold writes run in workerd there as a product
// team's npm test runs them. One copy holds the three modules, checked by one compiler run, one lint
// and one workerd run: each in a copy of its own took ~100-140 s, mostly those three, again.
// (The wrangler.toml edit alone, on other shapes of file, is test/node/scaffold-actor.test.ts.)
import { execFile, execFileSync, type SpawnSyncReturns, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify, stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configProblems } from "../../scripts/lib/deploy-preflight.mjs";
import { bound, resolved } from "./support/wrangler-config";

const root = join(import.meta.dirname, "..", "..");
const copy = mkdtempSync(join(tmpdir(), "plinth-scaffold-"));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const COPIED = ["src", "durable-objects", "wasm", "test", "scripts", "migrations", "bench"];
// Every top-level file the compiler reads (tsconfig.json's `include`, so a config file added
// there is copied too: a list of its own missed vitest.unhandled.ts), and the tools' own.
const FILES = [
  "package.json",
  "tsconfig.json",
  "biome.json",
  "wrangler.toml",
  ...(JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8")).include as string[]).filter((p) =>
    p.endsWith(".ts"),
  ),
];

function kernelSnapshot(dir: string): string {
  return execFileSync("find", ["src/kernel", "-type", "f", "-exec", "sha256sum", "{}", "+"], { cwd: dir })
    .toString()
    .split("\n")
    .sort()
    .join("\n");
}

const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: copy, encoding: "utf8" });
const read = (file: string) => readFileSync(join(copy, file), "utf8");
const scaffold = (args: string[]) =>
  promisify(execFile)(process.execPath, ["scripts/plinth.mjs", "new", "module", ...args], {
    cwd: copy,
    encoding: "utf8",
  });

/**
 * Files of the suite that read every registered module, run in the copy with the new ones: each
 * failed in a product's npm test once its first module was added (the walk could not fill its
 * {id}; the roles held its grants beside the blog's that the tests spelled out; /readyz pinged its
 * actor beside the platform's objects the health test spelled out; the member-privilege walk
 * took the seeded resource a member may read for a private one).
 */
const SUITE_FILES = [
  "test/gateway/tenant-isolation.test.ts",
  "test/identity/roles.test.ts",
  "test/jobs/apply-grants.test.ts",
  "test/identity/role-undeclared.test.ts",
  "test/identity/auth-happy.test.ts",
  "test/kernel/health.test.ts",
  // A member reads the module's seeded resource (the scaffold grants members read): the privilege
  // walk took its id for another's private value, and failed naming the list that showed it.
  "test/gateway/member-privilege.test.ts",
];

/** One test file's outcome in vitest's JSON report. */
type FileReport = { name: string; assertionResults: { status: string }[] };

/** What the copy went through, done once for both modules (beforeAll), asserted on by each test. */
const made = {
  kernelBefore: "",
  registeredEarly: [] as string[],
  plain: { stdout: "", stderr: "" },
  actor: { stdout: "", stderr: "" },
  projection: { stdout: "", stderr: "" },
  tsc: null as SpawnSyncReturns<string> | null,
  lint: null as SpawnSyncReturns<string> | null,
  tests: null as SpawnSyncReturns<string> | null,
  rules: null as SpawnSyncReturns<string> | null,
  check: null as SpawnSyncReturns<string> | null,
  files: [] as FileReport[],
};

/** Passed and total tests of the copy's workerd run, in the files whose path holds `part`. */
function counted(part: string): { passed: number; total: number } {
  const results = made.files.filter((f) => f.name.includes(part)).flatMap((f) => f.assertionResults);
  return { passed: results.filter((r) => r.status === "passed").length, total: results.length };
}

beforeAll(async () => {
  // Build outputs (bench/.tmp) are not part of a clone.
  const tracked = (path: string) => !path.includes("/.tmp");
  for (const dir of COPIED) cpSync(join(root, dir), join(copy, dir), { recursive: true, filter: tracked });
  for (const file of FILES) cpSync(join(root, file), join(copy, file));
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
  // Biome reads .gitignore through git, as in a clone.
  execFileSync("git", ["init", "-q"], { cwd: copy });
  made.kernelBefore = kernelSnapshot(copy);

  // A running `npm start` rebuilds the Worker whenever src/modules/index.ts changes; if it then
  // imports routes reading PERMISSIONS.widgets before permissions.ts has it, the Worker fails to
  // start and wrangler dev exits ("Cannot read properties of undefined (reading 'widget')").
  const watch = setInterval(() => {
    if (/widgets\(\)/.test(read("src/modules/index.ts")) && !read("src/generated/permissions.ts").includes("widgets:"))
      made.registeredEarly.push("src/modules/index.ts registers widgets, src/generated/permissions.ts lacks them");
  }, 20);
  made.plain = await scaffold(["widgets", "--aggregate", "widget"]).finally(() => clearInterval(watch));
  made.actor = await scaffold(["gadgets", "--actor"]);
  // A projection of the module just written: any publisher's events, whatever their data.
  made.projection = await scaffold(["widgetlog", "--projection", "widgets"]);

  // What npm test checks of the generated files, the record of shipped storage among them.
  made.check = run(process.execPath, ["scripts/generate.mjs", "--check"]);
  made.tsc = run(join(root, "node_modules/.bin/tsc"), ["--noEmit", "-p", "tsconfig.json"]);
  made.lint = run(join(root, "node_modules/.bin/biome"), [
    "ci",
    "src/index.ts",
    "src/modules/widgets",
    "src/modules/gadgets",
    "src/modules/widgetlog",
    "durable-objects/gadgets-actor.ts",
    "test/modules",
    "test/node/proxy",
    "test/gateway/isolation",
  ]);
  // Both modules' own tests, and the suite's files that read every registered module (the
  // tenant-isolation walk over every operation, theirs now among them; the default roles a new
  // tenant gets, their grants now among them), in one workerd run; the JSON report counts each file's.
  const report = join(copy, "scaffolded-tests.json");
  made.tests = run(join(root, "node_modules/.bin/vitest"), [
    "run",
    "test/modules/widgets",
    "test/modules/gadgets-actor",
    "test/modules/widgetlog",
    ...SUITE_FILES,
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${report}`,
  ]);
  // The Node rules npm test holds every module to: Durable Objects reached only through a
  // contract.ts client, no casts of replies, the injected clock; imports across modules listed.
  made.rules = run(join(root, "node_modules/.bin/vitest"), [
    "run",
    "-c",
    "vitest.node.config.ts",
    "test/node/contract-rules.test.ts",
    "test/node/module-imports.test.ts",
  ]);
  if (existsSync(report))
    made.files = (JSON.parse(readFileSync(report, "utf8")) as { testResults: FileReport[] }).testResults;
}, 420_000);

describe("plinth new module", () => {
  it("writes a registered module that typechecks and lints as generated, without touching the kernel", () => {
    const scaffolded = made.plain;
    expect(scaffolded.stdout).toContain("module widgets (aggregate widget) is registered");
    // Only plinth's own lines: the formatting pass it runs on what it wrote is no news to the
    // team ("Checked 12 files… Fixed 5 files." on stderr read as a warning).
    expect(scaffolded.stderr).toBe("");
    // Nor drizzle-kit's and the generator's progress on stdout ("Reading config file…",
    // "generate: wrote …"): what plinth wrote, registered, and where to go next, and only that.
    const foreign = scaffolded.stdout
      .split("\n")
      .filter((line) => line !== "" && !/^( {2}wrote | {2}registered |module |next: |then )/.test(line));
    expect(foreign).toEqual([]);
    // Where a team goes next: the guide's section for a first real change, by its heading.
    const guide = readFileSync(join(root, "docs", "modules.md"), "utf8");
    expect(guide).toContain("\n## Making the scaffold yours\n");
    expect(scaffolded.stdout).toContain('docs/modules.md, "Making the scaffold yours"');
    expect(made.registeredEarly.slice(0, 1)).toEqual([]);
    expect(read("src/modules/index.ts")).toMatch(/widgets\(\)/);
    expect(read("src/generated/permissions.ts")).toContain('"widgets.widget.create"');
    expect(read("src/generated/migrations.ts")).toMatch(/_widgets\.sql/);
    // It declares the headers its answers carry, as test/node/openapi.test.ts requires of every
    // module: the ETag to send back as If-Match, and where a GET reads what a POST created.
    const doc = JSON.parse(read("src/generated/openapi.json"));
    const declared = (path: string, method: string, status: string) =>
      Object.keys(doc.paths[path]?.[method]?.responses?.[status]?.headers ?? {});
    expect(declared("/api/v1/widgets", "post", "201")).toEqual(expect.arrayContaining(["ETag", "Location"]));
    expect(declared("/api/v1/widgets/{id}", "get", "200")).toContain("ETag");
    expect(declared("/api/v1/widgets/{id}", "patch", "200")).toContain("ETag");

    expect(made.tsc?.status, made.tsc?.stdout).toBe(0);
    expect(made.lint?.status, `${made.lint?.stdout}${made.lint?.stderr}`).toBe(0);
    // Neither module, the actor's included, touches a kernel file.
    expect(kernelSnapshot(copy)).toBe(made.kernelBefore);
    // The module's own tests pass as written: among them, that its answers hold exactly the
    // declared fields, that a list refuses a cursor that is no id, and that the projection fills
    // a gap from the writer.
    expect(made.tests?.status, `${made.tests?.stdout}${made.tests?.stderr}`).toBe(0);
    expect(counted("test/modules/widgets-")).toEqual({ passed: 9, total: 9 });
    // The walk of every operation for tenant isolation fills /widgets/{id} with a widget of each
    // tenant (test/gateway/isolation/widgets.ts): before that file, the scaffold's npm test
    // failed there, naming getWidget {id} and renameWidget {id} as parameters nothing fills.
    expect(read("test/gateway/isolation/widgets.ts")).toContain('"/api/v1/widgets"');
    // Each suite file reading every module passes with the two new ones: the walk, and the
    // default roles' tests, which now find the members' read of each beside the blog's grants.
    for (const file of SUITE_FILES) {
      const outcome = counted(file);
      expect(outcome.total, file).toBeGreaterThan(0);
      expect(outcome.passed, `${file}: ${made.tests?.stdout}`).toBe(outcome.total);
    }
  });

  it("refuses a module that exists, a bad name, and an aggregate type another module declares", () => {
    const again = run(process.execPath, ["scripts/plinth.mjs", "new", "module", "widgets"]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("src/modules/widgets already exists");
    const bad = run(process.execPath, ["scripts/plinth.mjs", "new", "module", "Bad-Name"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('the module name "Bad-Name" must be');
    // An aggregate type another module declares is refused before a file is written: the
    // registry would refuse it only after, leaving the tree broken.
    for (const [module, type, owner] of [
      ["doodads", "widget", "src/modules/widgets/domain.ts"],
      ["essays", "post", "src/modules/blog/domain.ts"],
    ] as const) {
      const taken = run(process.execPath, ["scripts/plinth.mjs", "new", "module", module, "--aggregate", type]);
      expect(taken.status).toBe(2);
      expect(taken.stderr).toContain(`the aggregate type "${type}" is already declared (${owner})`);
      expect(existsSync(join(copy, "src/modules", module))).toBe(false);
    }
  });
});

describe("plinth new module --actor", () => {
  it("writes a module with a wired per-tenant actor that typechecks, lints and passes its tests as generated", async () => {
    const out = made.actor;
    expect(out.stderr).toBe("");
    expect(out.stdout).toContain("module gadgets (aggregate gadget, actor GadgetsActor) is registered");
    expect(out.stdout).toContain("registered GadgetsActor in src/index.ts and wrangler.toml, bound as GADGETS_ACTOR");
    // Exported under its class name, as a value and a type; its binding typed by that type.
    expect(read("src/index.ts")).toMatch(/export const GadgetsActor = traced\.object\(gadgetsActorObject\(platform\)/);
    expect(read("src/index.ts")).toContain("export type GadgetsActor = InstanceType<typeof GadgetsActor>;");
    expect(read("src/worker-env.d.ts")).toContain(
      'GADGETS_ACTOR: DurableObjectNamespace<import("./index").GadgetsActor>;',
    );
    expect(read("src/generated/objects.ts")).toContain('GADGETS_ACTOR: "GadgetsActor"');
    // Every environment binds it and the deploy's preflight finds its class created.
    const top = await resolved(copy);
    for (const env of ["staging", "production"]) {
      const config = await resolved(copy, env);
      expect(bound(config).GADGETS_ACTOR, env).toBe("GadgetsActor");
      const problems = configProblems({ ...config, migrations: top.migrations }, env, top);
      expect(problems.filter((p) => p.includes("GADGETS_ACTOR") || p.includes("GadgetsActor"))).toEqual([]);
    }
    expect(read("src/modules/gadgets/index.ts")).toContain('bindings: { GADGETS_ACTOR: "durable_object" }');
    // Its client calls getByName in src/modules/gadgets/contract.ts: written to actor.ts, it failed
    // the contract rules of npm test ("reaches Durable Objects only through their typed clients").
    expect(made.rules?.status, `${made.rules?.stdout}${made.rules?.stderr}`).toBe(0);

    expect(made.tsc?.status, made.tsc?.stdout).toBe(0);
    expect(made.lint?.status, `${made.lint?.stdout}${made.lint?.stderr}`).toBe(0);
    // Its schema is recorded as shipped, so the check names a version edited later; npm test's
    // generate --check passes as scaffolded.
    expect(JSON.parse(read("src/generated/shipped-storage.json")).schemas.GADGETS_ACTOR_SCHEMA).toHaveLength(1);
    expect(made.check?.status, `${made.check?.stdout}${made.check?.stderr}`).toBe(0);
    const validate = run(process.execPath, ["scripts/plinth.mjs", "modules", "validate"]);
    expect(validate.stdout + validate.stderr).toContain("no problems");
    // Its own tests: a reminder fires, a suspended tenant's is dropped, the erasure empties it.
    expect(made.tests?.status, `${made.tests?.stdout}${made.tests?.stderr}`).toBe(0);
    expect(counted("test/modules/gadgets-actor")).toEqual({ passed: 3, total: 3 });
    // The run held the three modules' tests and the suite files', and no other file's.
    const all = 14 + SUITE_FILES.reduce((n, file) => n + counted(file).total, 0);
    expect(stripVTControlCharacters(made.tests?.stdout ?? "")).toMatch(
      new RegExp(`Tests {2}${all} passed \\(${all}\\)`),
    );
  });
});

describe("plinth new module --projection", () => {
  it("writes a registered projection of another module's events that typechecks, lints and passes its test as generated", () => {
    const out = made.projection;
    expect(out.stderr).toBe("");
    expect(out.stdout).toContain("module widgetlog (projection of widgets: 2 event types) is registered");
    expect(out.stdout).toMatch(/^ {2}wrote migrations\/\d{4}_widgetlog\.sql$/m);
    // The publisher's events, read from the registry; its dependency, so the registry orders them.
    expect(read("src/modules/widgetlog/projection.ts")).toContain(
      'types: ["widgets.widget.created", "widgets.widget.renamed"]',
    );
    expect(read("src/modules/widgetlog/manifest.ts")).toContain('widgets: "^0.1.0"');
    expect(read("src/modules/widgetlog/index.ts")).toContain("tables: { widgetlogStreams }");
    expect(read("src/modules/index.ts")).toMatch(/widgetlog\(\)/);
    expect(read("src/generated/permissions.ts")).toContain('"widgetlog.stream.read"');
    const doc = JSON.parse(read("src/generated/openapi.json"));
    expect(Object.keys(doc.paths["/api/v1/widgetlog"] ?? {})).toEqual(["get"]);
    expect(made.tsc?.status, made.tsc?.stdout).toBe(0);
    expect(made.lint?.status, `${made.lint?.stdout}${made.lint?.stderr}`).toBe(0);
    expect(made.rules?.status, `${made.rules?.stdout}${made.rules?.stderr}`).toBe(0);
    const validate = run(process.execPath, ["scripts/plinth.mjs", "modules", "validate"]);
    expect(validate.stdout + validate.stderr).toContain("no problems");
    // Delivered twice and reversed, the same rows; a member reads its tenant's and no other's.
    expect(counted("test/modules/widgetlog-")).toEqual({ passed: 2, total: 2 });
  });

  it("refuses, before writing, a publisher that is not registered or publishes nothing, and an aggregate beside it", () => {
    for (const [args, said] of [
      [["essays", "--projection", "nope"], 'no module "nope" is registered (modules publishing events: '],
      [["essays", "--projection", "tenants"], 'the module "tenants" publishes no events (modules publishing events: '],
      [["essays", "--projection", "blog", "--aggregate", "essay"], "it takes no --aggregate or --actor"],
      [["essays", "--actor", "--projection", "blog"], "it takes no --aggregate or --actor"],
      [["widgetlog", "--projection", "blog"], "src/modules/widgetlog already exists"],
    ] as const) {
      const refused = run(process.execPath, ["scripts/plinth.mjs", "new", "module", ...args]);
      expect(refused.status, args.join(" ")).toBe(2);
      expect(refused.stderr).toContain(said);
    }
    expect(existsSync(join(copy, "src/modules/essays"))).toBe(false);
    expect(existsSync(join(copy, "test/modules/essays-projection.test.ts"))).toBe(false);
  });

  it("puts the tree back when a step after writing fails", () => {
    const snapshot = () =>
      execFileSync("find", ["src", "migrations", "test", "-type", "f", "-exec", "sha256sum", "{}", "+"], { cwd: copy })
        .toString()
        .split("\n")
        .sort();
    const toml = read("wrangler.toml");
    const before = snapshot();
    // A wrangler.toml that does not parse stops the generator, after the files and the migration.
    writeFileSync(join(copy, "wrangler.toml"), `${toml}\noops = [\n`);
    try {
      const failed = run(process.execPath, ["scripts/plinth.mjs", "new", "module", "bloglog", "--projection", "blog"]);
      expect(failed.status, failed.stdout + failed.stderr).toBe(1);
      expect(failed.stdout).toContain("wrote src/modules/bloglog/projection.ts");
      expect(failed.stderr).toContain("removed what was written, nothing is registered");
    } finally {
      writeFileSync(join(copy, "wrangler.toml"), toml);
    }
    expect(snapshot()).toEqual(before);
  }, 120_000);
});
