// `npm run generate` (run after `npx drizzle-kit generate`, and checked by npm test) refuses a
// migration SQLite cannot apply: drizzle-kit writes `ALTER TABLE … ADD <col> … NOT NULL` with no
// DEFAULT for a required column added to an existing table, and wrangler fails on it only when
// `npm start`, `plinth db migrate` or a deploy applies it ("Cannot add a NOT NULL column with
// default value NULL").
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const copy = mkdtempSync(join(tmpdir(), "plinth-generate-"));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe("npm run generate", () => {
  it("names a migration adding a NOT NULL column without a DEFAULT, and the fix", () => {
    // The scripts whole: generate.mjs imports its neighbours (jwt-keys.mjs, lib/).
    cpSync(join(root, "scripts"), join(copy, "scripts"), { recursive: true });
    mkdirSync(join(copy, "migrations"));
    writeFileSync(
      join(copy, "migrations", "0000_init.sql"),
      "CREATE TABLE `orders` (`id` text PRIMARY KEY NOT NULL);\n",
    );
    writeFileSync(
      join(copy, "migrations", "0001_orders_total.sql"),
      "ALTER TABLE `orders` ADD `note` text;--> statement-breakpoint\nALTER TABLE `orders` ADD `total` integer NOT NULL;--> statement-breakpoint\nALTER TABLE `orders` ADD `currency` text DEFAULT 'EUR' NOT NULL;",
    );
    const generate = spawnSync(process.execPath, ["scripts/generate.mjs"], { cwd: copy, encoding: "utf8" });
    expect(generate.status).toBe(1);
    const refused = generate.stderr.split("\n").filter((l) => l.includes("without a DEFAULT"));
    expect(refused).toEqual([
      expect.stringContaining(
        "migrations/0001_orders_total.sql adds the NOT NULL column orders.total without a DEFAULT",
      ),
    ]);
  });

  it("refuses a migration drizzle-kit's journal lacks, naming the one sharing its number and the guide", () => {
    // What a merge of plinth's updates leaves when plinth and the fork each added a 0001 and the
    // conflict in migrations/meta/ was resolved by taking plinth's side.
    cpSync(join(root, "scripts"), join(copy, "scripts"), { recursive: true });
    const migrations = join(copy, "merged", "migrations");
    mkdirSync(join(migrations, "meta"), { recursive: true });
    writeFileSync(join(migrations, "0000_init.sql"), "CREATE TABLE `a` (`id` text PRIMARY KEY NOT NULL);\n");
    writeFileSync(join(migrations, "0001_orders.sql"), "CREATE TABLE `orders` (`id` text PRIMARY KEY NOT NULL);\n");
    writeFileSync(join(migrations, "0001_tenant_suspension.sql"), "ALTER TABLE `a` ADD `note` text;\n");
    const entry = (idx: number, tag: string) => ({
      idx,
      version: "6",
      when: 1_700_000_000_000 + idx,
      tag,
      breakpoints: true,
    });
    writeFileSync(
      join(migrations, "meta", "_journal.json"),
      JSON.stringify({
        version: "7",
        dialect: "sqlite",
        entries: [entry(0, "0000_init"), entry(1, "0001_tenant_suspension")],
      }),
    );
    cpSync(join(copy, "scripts"), join(copy, "merged", "scripts"), { recursive: true });
    const generate = spawnSync(process.execPath, ["scripts/generate.mjs"], {
      cwd: join(copy, "merged"),
      encoding: "utf8",
    });
    expect(generate.status).toBe(1);
    expect(generate.stderr).toContain(
      "migrations/0001_orders.sql shares its number with 0001_tenant_suspension.sql, and migrations/meta/_journal.json lists only 0001_tenant_suspension.sql",
    );
    expect(generate.stderr).toContain(`docs/operations.md, "Taking plinth's updates"`);
  });
});
