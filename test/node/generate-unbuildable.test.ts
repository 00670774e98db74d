// `npm run generate` writes its sources (migrations, objects, permissions), then builds the app to
// ask it for /openapi.json. Following docs/modules.md, "Making the scaffold yours", a team renames
// the scaffold's fields in domain.ts and runs it (step 2) before routes.ts follows (step 3): the
// build failed, and after esbuild's own diagnostic Node printed esbuild's stack trace, saying
// neither what was written nor what to do. It says both, in a line, and exits 1.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const copy = mkdtempSync(join(tmpdir(), "plinth-generate-unbuildable-"));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

/** A copy of what generate reads, with `edit` applied to the blog's routes.ts (or its `file`). */
function generateWith(name: string, edit: (routes: string) => string, args: string[] = [], file = "routes.ts") {
  const dir = join(copy, name);
  for (const part of ["scripts", "src", "wasm", "migrations", "wrangler.toml", "package.json"]) {
    cpSync(join(root, part), join(dir, part), { recursive: true });
  }
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  const routes = join(dir, "src", "modules", "blog", file);
  writeFileSync(routes, edit(readFileSync(routes, "utf8")));
  return spawnSync(process.execPath, ["scripts/generate.mjs", ...args], {
    cwd: dir,
    encoding: "utf8",
    timeout: 120_000,
  });
}

describe("npm run generate over an app that does not build", () => {
  it("names the step, what it did not rewrite and what to run, without a stack trace", () => {
    const run = generateWith(
      "renamed",
      (routes) => `import { NoSuchSchema } from "./domain";\nvoid NoSuchSchema;\n${routes}`,
    );
    expect(run.status).toBe(1);
    // esbuild's own diagnostic names the file and the import.
    expect(run.stderr).toContain("NoSuchSchema");
    expect(run.stderr).toContain(
      "generate: the app does not build, so src/generated/openapi.json and api.d.ts were not rewritten",
    );
    expect(run.stderr).toContain("npx tsc --noEmit");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it("with --check (npm test's step), says the document was not checked", () => {
    const run = generateWith(
      "checked",
      (routes) => `import { NoSuchSchema } from "./domain";\nvoid NoSuchSchema;\n${routes}`,
      ["--check"],
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("so src/generated/openapi.json and api.d.ts were not checked");
    expect(run.stderr).toContain("run npm run generate -- --check again");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it("says the same of an app that builds and throws as it loads", () => {
    const run = generateWith("throws", (routes) => `${routes}\nthrow new Error("a module refused at load");\n`);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      "generate: the app does not load, so src/generated/openapi.json and api.d.ts were not rewritten: a module refused at load",
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
    // Not a type error: tsc is not what names it.
    expect(run.stderr).not.toContain("npx tsc --noEmit");
    // Nor is the bundle it loaded left behind in node_modules/.cache.
    expect(existsSync(join(root, "node_modules", ".cache", "plinth-generate", `app-${run.pid}.mjs`))).toBe(false);
  }, 120_000);

  // An inventory module whose manifest kept event_read for an event it did not publish yet: the
  // registry refused it, and the line said to fix it with tsc, which passes and names nothing.
  it("sends a registry problem to plinth modules validate, not to tsc", () => {
    const run = generateWith("registry", (m) => m.replace('"blog.*"', '"blog.nothing.*"'), [], "manifest.ts");
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("the app does not load");
    expect(run.stderr).toContain('event_read "blog.nothing.*" matches no event type');
    expect(run.stderr).toContain("npx plinth modules validate");
    expect(run.stderr).not.toContain("npx tsc --noEmit");
  }, 120_000);
});
