// `plinth db renumbered`: a fork's migrations regenerated as one after plinth's (a merge of
// plinth's updates) make tables its databases have already; wrangler, which records migrations
// by file name, applied the new file again there and failed with "table … already exists".
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { migrateD1Quietly } from "../../scripts/lib/db-migrate.mjs";
import { dbRenumberedCommand } from "../../scripts/lib/db-renumbered.mjs";

const ROOT = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "plinth-db-renumbered-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The fork's migrations after the merge: the regenerated one; the old two are gone.
const folder = path.join(dir, "migrations");
mkdirSync(folder);
writeFileSync(path.join(folder, "0012_orders.sql"), "CREATE TABLE `orders_orders` (`id` text);\n");

/** The names d1_migrations of the local D1 at `persistTo` records. */
function recorded(persistTo: string) {
  return new Promise<string[]>((resolve, reject) => {
    execFile(
      path.join(ROOT, "node_modules", ".bin", "wrangler"),
      [
        "d1",
        "execute",
        "DB",
        "--local",
        "--json",
        "--persist-to",
        persistTo,
        "--command",
        "SELECT name FROM d1_migrations",
      ],
      { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
      (error, stdout) =>
        error ? reject(error) : resolve(JSON.parse(stdout)[0].results.map((r: { name: string }) => r.name)),
    );
  });
}

/** A local D1 with plinth's migrations applied and the fork's `olds` recorded, as wrangler records them. */
async function database(name: string, olds: string[]) {
  const persistTo = path.join(dir, name);
  expect((await migrateD1Quietly({ persistTo })).code).toBe(0);
  const rows = olds.map((o) => `('${o}')`).join(", ");
  await new Promise((resolve, reject) =>
    execFile(
      path.join(ROOT, "node_modules", ".bin", "wrangler"),
      [
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        persistTo,
        "--command",
        `INSERT INTO d1_migrations (name) VALUES ${rows}`,
      ],
      { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
      (error) => (error ? reject(error) : resolve(null)),
    ),
  );
  return persistTo;
}

const OLDS = ["0009_orders.sql", "0010_orders_status.sql"];
const command = (persistTo: string, olds = OLDS) =>
  dbRenumberedCommand(["0012_orders.sql", ...olds.flatMap((o) => ["--from", o]), "--persist-to", persistTo], {
    folder,
  });

describe("npx plinth db renumbered", () => {
  it("records the regenerated migration where the old ones were applied, once", async () => {
    const persistTo = await database("applied", OLDS);

    expect(await command(persistTo)).toBe(0);
    const names = await recorded(persistTo);
    expect(names).toContain("0012_orders.sql");
    expect(names).not.toContain("0009_orders.sql");
    expect(names).not.toContain("0010_orders_status.sql");
    // Run again (another developer's turn, a retried deploy): nothing changes.
    expect(await command(persistTo)).toBe(0);
    expect((await recorded(persistTo)).filter((n) => n === "0012_orders.sql")).toHaveLength(1);
  }, 120_000);

  it("a re-run forgets the old names a run stopped before forgetting (its new name recorded first)", async () => {
    // What a run leaves when wrangler wrote the new name and then failed before deleting the old ones.
    const persistTo = await database("halfway", ["0012_orders.sql", "0009_orders.sql"]);

    expect(await command(persistTo)).toBe(0);
    const names = await recorded(persistTo);
    expect(names.filter((n) => n === "0012_orders.sql")).toHaveLength(1);
    expect(names).not.toContain("0009_orders.sql");
    expect(names).not.toContain("0010_orders_status.sql");
  }, 120_000);

  it("refuses a database that applied only part of what the new migration makes", async () => {
    const persistTo = await database("partial", ["0009_orders.sql"]);

    expect(await command(persistTo)).toBe(1);
    expect(await recorded(persistTo)).toContain("0009_orders.sql");
    expect(await recorded(persistTo)).not.toContain("0012_orders.sql");
  }, 120_000);

  it("refuses an old migration still in migrations/: wrangler would apply it again", async () => {
    writeFileSync(path.join(folder, "0009_orders.sql"), "");
    try {
      expect(await command(path.join(dir, "unused"))).toBe(2);
    } finally {
      rmSync(path.join(folder, "0009_orders.sql"));
    }
  });
});
