// bench/lib/serve.mjs's applyMigrations: how the bench and the Node end-to-end tests (the Prism
// sweep's Worker among them) migrate D1, statement by statement through D1's `exec`, one line
// each. A migration file opening with `--` comments (0022_blank_deleted_posts) stopped every
// one of them from starting ("D1_EXEC_ERROR: Error in line 1"): wrangler's splitter leaves a
// file's leading comments in its first statement, and put on one line they commented it out.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, describe, expect, it } from "vitest";
import { applyMigrations } from "../../bench/lib/serve.mjs";

const dir = mkdtempSync(path.join(tmpdir(), "plinth-apply-migrations-"));
const mf = new Miniflare({
  modules: true,
  script: "export default { fetch() { return new Response('') } }",
  d1Databases: { DB: "00000000-0000-4000-8000-000000000001" },
  d1Persist: false,
  cf: false,
});
afterAll(async () => {
  await mf.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("applyMigrations", () => {
  it("applies a migration whose statements are preceded by comments, as wrangler does", async () => {
    writeFileSync(path.join(dir, "0000_table.sql"), "CREATE TABLE `notes` (\n\t`v` text NOT NULL\n);\n");
    writeFileSync(
      path.join(dir, "0001_commented.sql"),
      // One statement: the splitter then hands back the file as it is, comments and all.
      "-- Why this migration exists, as a hand-written one says it.\n-- A second line of why.\nINSERT INTO `notes` (`v`) VALUES ('kept');\n",
    );
    writeFileSync(
      path.join(dir, "0002_two.sql"),
      "-- Two statements: the splitter drops the comments.\nINSERT INTO `notes` (`v`) VALUES ('also');\n--> statement-breakpoint\nINSERT INTO `notes` (`v`) VALUES ('more');\n",
    );
    const files = ["0000_table.sql", "0001_commented.sql", "0002_two.sql"];
    expect(await applyMigrations(mf, "DB", dir)).toEqual(files);
    const db = await mf.getD1Database("DB");
    const rows = await db.prepare("SELECT v FROM notes ORDER BY v").all();
    expect(rows.results).toEqual([{ v: "also" }, { v: "kept" }, { v: "more" }]);
    const applied = await db.prepare("SELECT name FROM d1_migrations ORDER BY id").all();
    expect(applied.results.map((r) => r.name)).toEqual(files);
  });
});
