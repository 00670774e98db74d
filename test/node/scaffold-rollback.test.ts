// `plinth new module` when a step after it wrote the module fails: the tree is put back as it
// was, so the next try is not refused with "src/modules/<name> already exists" and no migration
// is left behind. Run on a copy of the repository, broken in two ways a team's tree can be
// mid-change: a read model's column renamed and not generated (drizzle-kit then exits 0 having
// written nothing, as it cannot ask whether it is a rename), and a wrangler.toml that does not parse.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
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
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const copy = mkdtempSync(join(tmpdir(), "plinth-scaffold-rollback-"));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

beforeAll(() => {
  for (const dir of ["src", "durable-objects", "wasm", "scripts", "migrations"]) {
    cpSync(join(root, dir), join(copy, dir), { recursive: true });
  }
  for (const file of ["package.json", "drizzle.config.ts", "tsconfig.json", "biome.json", "wrangler.toml"]) {
    cpSync(join(root, file), join(copy, file));
  }
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
  // Biome reads .gitignore through git, as in a clone.
  execFileSync("git", ["init", "-q"], { cwd: copy });
});

/** Every file under the folders the scaffold writes to, with a hash of its content. */
function tree(): string[] {
  const hash = (file: string) =>
    createHash("sha256")
      .update(readFileSync(join(copy, file)))
      .digest("hex");
  return ["src/modules", "src/generated", "migrations", "test"]
    .filter((dir) => existsSync(join(copy, dir)))
    .flatMap((dir) =>
      readdirSync(join(copy, dir), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(copy.length + 1)),
    )
    .map((file) => `${file} ${hash(file)}`)
    .sort();
}

const scaffold = () =>
  spawnSync(process.execPath, ["scripts/plinth.mjs", "new", "module", "widgets"], { cwd: copy, encoding: "utf8" });

/** Runs `change` on a file of the copy for the length of `body`. */
function changed(file: string, change: (text: string) => string, body: () => void) {
  const path = join(copy, file);
  const text = readFileSync(path, "utf8");
  writeFileSync(path, change(text));
  try {
    body();
  } finally {
    writeFileSync(path, text);
  }
}

describe("plinth new module when a step fails", () => {
  it("fails when drizzle-kit writes no migration, shows its reason, and leaves nothing behind", () => {
    changed(
      "src/modules/blog/read-model.ts",
      (schema) => {
        expect(schema).toContain('text("title")');
        return schema.replace('text("title")', 'text("headline")');
      },
      () => {
        const before = tree();
        const scaffolded = scaffold();
        expect(scaffolded.status, scaffolded.stdout + scaffolded.stderr).toBe(1);
        expect(scaffolded.stderr).toContain("Interactive prompts require a TTY");
        expect(scaffolded.stderr).toContain("plinth: drizzle-kit wrote no migration for widgets");
        expect(tree()).toEqual(before);
      },
    );
  }, 120_000);

  it("puts back the migration, the generated files and the module list when the generator fails", () => {
    changed(
      "wrangler.toml",
      (toml) => `${toml}\noops = [\n`,
      () => {
        const before = tree();
        const scaffolded = scaffold();
        expect(scaffolded.status, scaffolded.stdout + scaffolded.stderr).toBe(1);
        expect(scaffolded.stderr).toContain("Invalid TOML document");
        expect(scaffolded.stderr).toContain("removed what was written, nothing is registered");
        expect(tree()).toEqual(before);
      },
    );
    // And the next try, with the file fixed, is not refused as existing.
    const again = scaffold();
    expect(again.status, again.stdout + again.stderr).toBe(0);
    // What it wrote includes the migration a running npm start applies at once.
    expect(again.stdout).toMatch(/^ {2}wrote migrations\/\d{4}_widgets\.sql$/m);
    expect(existsSync(join(copy, "src/modules/widgets/index.ts"))).toBe(true);
  }, 120_000);
});
