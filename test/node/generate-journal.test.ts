// `npm run generate` reads drizzle-kit's journal (migrations/meta/_journal.json) to check the
// migration files against it. One a merge left broken is named in a line with exit 2, as
// `plinth db migrate` names it, not a JSON.parse stack trace.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const copy = mkdtempSync(join(tmpdir(), "plinth-generate-journal-"));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

/** Runs generate.mjs in a copy of the scripts whose migrations/meta/_journal.json is `journal`. */
function generateWith(name: string, journal: string) {
  const dir = join(copy, name);
  cpSync(join(root, "scripts"), join(dir, "scripts"), { recursive: true });
  mkdirSync(join(dir, "migrations", "meta"), { recursive: true });
  writeFileSync(join(dir, "migrations", "0000_init.sql"), "CREATE TABLE `a` (`id` text PRIMARY KEY NOT NULL);\n");
  writeFileSync(join(dir, "migrations", "meta", "_journal.json"), journal);
  return spawnSync(process.execPath, ["scripts/generate.mjs"], { cwd: dir, encoding: "utf8" });
}

describe("npm run generate over a broken journal", () => {
  it("exits 2 naming the file and what is wrong when it is not JSON (a merge left conflict markers)", () => {
    const run = generateWith("conflicted", '{\n<<<<<<< HEAD\n  "entries": []\n=======\n>>>>>>> theirs\n}\n');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("generate: cannot read migrations/meta/_journal.json");
    expect(run.stderr).toContain("not JSON");
    expect(run.stderr).toContain(`docs/operations.md, "Taking plinth's updates"`);
    // A message, not a stack trace.
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("exits 2 when it is JSON without drizzle-kit's list of entries", () => {
    const run = generateWith("null", "null\n");
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("generate: cannot read migrations/meta/_journal.json");
    expect(run.stderr).toContain('no "entries" list of { tag, when }; nothing generated');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
