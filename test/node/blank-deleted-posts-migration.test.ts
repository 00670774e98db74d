// Migration 0022_blank_deleted_posts: tombstones written before deleting a post blanked its title
// and text (src/modules/blog/domain.ts) still held them, and every export showed them. The
// migration blanks them where they are, on libSQL as on D1 (the same SQL file); live posts keep
// theirs. Run here on a libSQL file database migrated to 0021, then to the end.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@libsql/client";
import { afterAll, describe, expect, it } from "vitest";
import { migrateLibsql } from "../../scripts/lib/db-migrate.mjs";

const dir = mkdtempSync(path.join(tmpdir(), "plinth-blank-deleted-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MIGRATION = "0022_blank_deleted_posts";

/** The project's migrations folder, its journal cut before `tag`: a database as it was before it. */
function folderBefore(tag: string): string {
  const at = path.join(dir, "before");
  cpSync("migrations", at, { recursive: true });
  const journalFile = path.join(at, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8"));
  const cut = journal.entries.findIndex((e: { tag: string }) => e.tag === tag);
  expect(cut).toBeGreaterThan(0);
  writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, cut) }));
  return at;
}

describe(`migration ${MIGRATION}`, () => {
  it("blanks the title and text of deleted posts' tombstones, and leaves live posts as they are", async () => {
    const url = `file:${path.join(dir, "read-models.db")}`;
    await migrateLibsql({ url, folder: folderBefore(MIGRATION) });
    const client = createClient({ url });
    try {
      const insert = (id: string, status: string) =>
        client.execute({
          sql: `insert into blog_posts (tenant_id, id, title, content, status, author_id, version, created_at, updated_at)
                values ('t1', ?, ?, ?, ?, 'u1', 3, '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z')`,
          args: [id, `title of ${id}`, `text of ${id}`, status],
        });
      await insert("gone", "deleted");
      await insert("kept", "published");
      await migrateLibsql({ url });
      const rows = await client.execute(
        "select id, title, content, status, version, updated_at from blog_posts order by id",
      );
      expect(rows.rows.map((r) => ({ ...r }))).toEqual([
        { id: "gone", title: "", content: "", status: "deleted", version: 3, updated_at: "2026-01-02T00:00:00.000Z" },
        {
          id: "kept",
          title: "title of kept",
          content: "text of kept",
          status: "published",
          version: 3,
          updated_at: "2026-01-02T00:00:00.000Z",
        },
      ]);
    } finally {
      client.close();
    }
  });
});
