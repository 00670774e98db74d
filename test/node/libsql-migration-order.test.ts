// drizzle's migrator applies a journal entry only when its `when` is later than the last one the
// database recorded. After a product team merges plinth's updates, plinth's new migrations were
// generated before the fork's own, which its libSQL read models already have: the migrator
// skipped them without a word, `plinth db migrate` said "0 applied", and every read stayed 503.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, describe, expect, it } from "vitest";
import { migrateLibsql } from "../../scripts/lib/db-migrate.mjs";

const dir = mkdtempSync(path.join(tmpdir(), "plinth-libsql-order-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Migration = { tag: string; when: number; sql: string };

/** A migrations folder as drizzle-kit writes it: the .sql files and the journal listing them. */
function folder(name: string, migrations: Migration[]): string {
  const at = path.join(dir, name);
  mkdirSync(path.join(at, "meta"), { recursive: true });
  for (const m of migrations) writeFileSync(path.join(at, `${m.tag}.sql`), m.sql);
  const entries = migrations.map((m, idx) => ({ idx, version: "6", when: m.when, tag: m.tag, breakpoints: true }));
  writeFileSync(path.join(at, "meta", "_journal.json"), JSON.stringify({ version: "7", dialect: "sqlite", entries }));
  return at;
}

async function tables(url: string): Promise<string[]> {
  const client = createClient({ url });
  try {
    const rows = (await client.execute("select name from sqlite_master where type = 'table' order by name")).rows;
    return rows.map((r) => String(r.name)).filter((t) => !t.startsWith("__"));
  } finally {
    client.close();
  }
}

const init: Migration = { tag: "0000_init", when: 1_000, sql: "CREATE TABLE `a` (`id` text PRIMARY KEY NOT NULL);" };
// plinth's migration, generated upstream before the fork generated its own.
const upstream: Migration = { tag: "0001_erased", when: 2_000, sql: "CREATE TABLE `erased` (`id` text);" };
const fork: Migration = { tag: "0001_orders", when: 3_000, sql: "CREATE TABLE `orders` (`id` text);" };

describe("libSQL migrations after a merge of plinth's updates", () => {
  it("applies plinth's migration generated before the fork's, which drizzle's migrator skips", async () => {
    const url = `file:${path.join(dir, "read-models.db")}`;
    expect(await migrateLibsql({ url, folder: folder("fork", [init, fork]) })).toMatchObject({ before: 0, after: 2 });

    const merged = await migrateLibsql({ url, folder: folder("merged", [init, upstream, fork]) });

    expect(merged).toMatchObject({ before: 2, after: 3, outOfOrder: ["0001_erased"] });
    expect(await tables(url)).toEqual(["a", "erased", "orders"]);
    // Recorded, so the next run applies nothing again.
    expect(await migrateLibsql({ url, folder: folder("merged", [init, upstream, fork]) })).toMatchObject({
      before: 3,
      after: 3,
      outOfOrder: [],
    });
  });
});
