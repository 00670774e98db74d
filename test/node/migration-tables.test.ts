// What `/readyz` expects to exist once a migration is applied: the tables it made that the later
// migrations keep, read from the SQL by `npm run generate` (src/generated/migrations.ts).
import { describe, expect, it } from "vitest";
import { migrationTables } from "../../scripts/lib/migration-tables.mjs";

describe("migrationTables", () => {
  it("gives each migration the tables it creates, less those dropped later, and a recreated table to its recreator", () => {
    const tables = migrationTables([
      {
        name: "0000_init.sql",
        sql: "CREATE TABLE `orders` (`id` text);\nCREATE TABLE IF NOT EXISTS `scratch` (`id` text);",
      },
      { name: "0001_drop.sql", sql: "DROP TABLE `scratch`;" },
      {
        name: "0002_recreate.sql",
        sql: "CREATE TABLE `__new_orders` (`id` text);--> statement-breakpoint\nDROP TABLE `orders`;--> statement-breakpoint\nALTER TABLE `__new_orders` RENAME TO `orders`;",
      },
      { name: "0003_index.sql", sql: "CREATE INDEX `orders_id` ON `orders` (`id`);" },
    ]);
    expect(tables).toEqual({
      "0000_init.sql": [],
      "0001_drop.sql": [],
      "0002_recreate.sql": ["orders"],
      "0003_index.sql": [],
    });
  });
});
