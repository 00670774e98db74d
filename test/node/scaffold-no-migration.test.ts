// `plinth new module` when drizzle-kit writes no migration: drizzle-kit exits 0 when it would
// have to ask a question (is this column a rename?) and has no terminal, so its exit code alone
// said the scaffold succeeded. Run on a copy of the repository whose blog read model has a
// column renamed and not yet generated, as a team's tree has mid-change.
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const copy = mkdtempSync(join(tmpdir(), "plinth-scaffold-nomigration-"));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe("plinth new module when drizzle-kit writes no migration", () => {
  it("fails, shows drizzle-kit's reason, and leaves no module behind", () => {
    for (const dir of ["src", "durable-objects", "wasm", "scripts", "migrations"])
      cpSync(join(root, dir), join(copy, dir), { recursive: true });
    for (const file of ["package.json", "drizzle.config.ts", "tsconfig.json", "biome.json", "wrangler.toml"]) {
      cpSync(join(root, file), join(copy, file));
    }
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
    // Biome reads .gitignore through git, as in a clone.
    execFileSync("git", ["init", "-q"], { cwd: copy });
    const blog = join(copy, "src/modules/blog/read-model.ts");
    const schema = readFileSync(blog, "utf8");
    expect(schema).toContain('text("title")');
    writeFileSync(blog, schema.replace('text("title")', 'text("headline")'));
    const index = readFileSync(join(copy, "src/modules/index.ts"), "utf8");
    const migrations = readdirSync(join(copy, "migrations")).sort();

    const scaffolded = spawnSync(process.execPath, ["scripts/plinth.mjs", "new", "module", "widgets"], {
      cwd: copy,
      encoding: "utf8",
    });

    expect(scaffolded.status, scaffolded.stdout + scaffolded.stderr).toBe(1);
    expect(scaffolded.stderr).toContain("Interactive prompts require a TTY");
    expect(scaffolded.stderr).toContain("plinth: drizzle-kit wrote no migration for widgets");
    expect(existsSync(join(copy, "src/modules/widgets"))).toBe(false);
    const tests = join(copy, "test/modules");
    expect(existsSync(tests) ? readdirSync(tests).filter((f) => f.startsWith("widgets-")) : []).toEqual([]);
    expect(existsSync(join(copy, "test/node/proxy/modules/widgets.ts"))).toBe(false);
    expect(readFileSync(join(copy, "src/modules/index.ts"), "utf8")).toBe(index);
    expect(readdirSync(join(copy, "migrations")).sort()).toEqual(migrations);
  }, 120_000);
});
