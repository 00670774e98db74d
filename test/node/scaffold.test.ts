// `plinth new module` on a copy of the repository: the module it writes
// typechecks and lints as generated, is registered, and touches no kernel file.
// The copy is checked with the compiler and the linter, and the tests the scaffold
// writes for the module run in workerd there as a product team's npm test runs them.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify, stripVTControlCharacters } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const copy = mkdtempSync(join(tmpdir(), "plinth-scaffold-"));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const COPIED = ["src", "durable-objects", "wasm", "test", "scripts", "migrations", "bench"];
const FILES = [
  "package.json",
  "tsconfig.json",
  "biome.json",
  "drizzle.config.ts",
  "vitest.config.ts",
  "vitest.otel.config.ts",
  "vitest.bindings.ts",
  "vitest.node.config.ts",
  "wrangler.toml",
];

function kernelSnapshot(dir: string): string {
  return execFileSync("find", ["src/kernel", "-type", "f", "-exec", "sha256sum", "{}", "+"], { cwd: dir })
    .toString()
    .split("\n")
    .sort()
    .join("\n");
}

describe("plinth new module", () => {
  it("writes a registered module that typechecks and lints as generated, without touching the kernel", async () => {
    // Build outputs (bench/.tmp) are not part of a clone.
    const tracked = (path: string) => !path.includes("/.tmp");
    for (const dir of COPIED) cpSync(join(root, dir), join(copy, dir), { recursive: true, filter: tracked });
    for (const file of FILES) cpSync(join(root, file), join(copy, file));
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
    // Biome reads .gitignore through git, as in a clone.
    execFileSync("git", ["init", "-q"], { cwd: copy });
    const kernelBefore = kernelSnapshot(copy);

    const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: copy, encoding: "utf8" });
    // A running `npm start` rebuilds the Worker whenever src/modules/index.ts changes; if it then
    // imports routes reading PERMISSIONS.widgets before permissions.ts has it, the Worker fails to
    // start and wrangler dev exits ("Cannot read properties of undefined (reading 'widget')").
    const read = (file: string) => readFileSync(join(copy, file), "utf8");
    const registeredEarly: string[] = [];
    const watch = setInterval(() => {
      if (
        /widgets\(\)/.test(read("src/modules/index.ts")) &&
        !read("src/generated/permissions.ts").includes("widgets:")
      )
        registeredEarly.push("src/modules/index.ts registers widgets, src/generated/permissions.ts lacks them");
    }, 20);
    const scaffolded = await promisify(execFile)(
      process.execPath,
      ["scripts/plinth.mjs", "new", "module", "widgets", "--aggregate", "widget"],
      { cwd: copy, encoding: "utf8" },
    ).finally(() => clearInterval(watch));
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
    expect(registeredEarly.slice(0, 1)).toEqual([]);
    expect(readFileSync(join(copy, "src/modules/index.ts"), "utf8")).toMatch(/widgets\(\)/);
    expect(readFileSync(join(copy, "src/generated/permissions.ts"), "utf8")).toContain('"widgets.widget.create"');
    expect(readFileSync(join(copy, "src/generated/migrations.ts"), "utf8")).toMatch(/_widgets\.sql/);
    // It declares the headers its answers carry, as test/node/openapi.test.ts requires of every
    // module: the ETag to send back as If-Match, and where a GET reads what a POST created.
    const doc = JSON.parse(read("src/generated/openapi.json"));
    const declared = (path: string, method: string, status: string) =>
      Object.keys(doc.paths[path]?.[method]?.responses?.[status]?.headers ?? {});
    expect(declared("/api/v1/widgets", "post", "201")).toEqual(expect.arrayContaining(["ETag", "Location"]));
    expect(declared("/api/v1/widgets/{id}", "get", "200")).toContain("ETag");
    expect(declared("/api/v1/widgets/{id}", "patch", "200")).toContain("ETag");

    const tsc = run(join(root, "node_modules/.bin/tsc"), ["--noEmit", "-p", "tsconfig.json"]);
    expect(tsc.status, tsc.stdout).toBe(0);
    const lint = run(join(root, "node_modules/.bin/biome"), [
      "ci",
      "src/modules/widgets",
      "test/modules",
      "test/node/proxy",
    ]);
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    expect(kernelSnapshot(copy)).toBe(kernelBefore);
    // The module's own tests pass as written: among them, that its answers hold exactly the
    // declared fields, that a list refuses a cursor that is no id, and that the projection fills
    // a gap from the writer.
    const tests = run(join(root, "node_modules/.bin/vitest"), ["run", "test/modules/widgets"]);
    expect(tests.status, tests.stdout + tests.stderr).toBe(0);
    expect(stripVTControlCharacters(tests.stdout)).toMatch(/Tests {2}9 passed \(9\)/);

    const again = run(process.execPath, ["scripts/plinth.mjs", "new", "module", "widgets"]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("src/modules/widgets already exists");
    const bad = run(process.execPath, ["scripts/plinth.mjs", "new", "module", "Bad-Name"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('the module name "Bad-Name" must be');
    // An aggregate type another module declares is refused before a file is written: the
    // registry would refuse it only after, leaving the tree broken.
    for (const [module, type, owner] of [
      ["gadgets", "widget", "src/modules/widgets/domain.ts"],
      ["essays", "post", "src/modules/blog/domain.ts"],
    ] as const) {
      const taken = run(process.execPath, ["scripts/plinth.mjs", "new", "module", module, "--aggregate", type]);
      expect(taken.status).toBe(2);
      expect(taken.stderr).toContain(`the aggregate type "${type}" is already declared (${owner})`);
      expect(existsSync(join(copy, "src/modules", module))).toBe(false);
    }
  }, 240_000);
});
