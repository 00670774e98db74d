// The libSQL half of the read-model repository suite: a file database in Node,
// migrated by the same code as `npx plinth db migrate`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { afterAll, beforeAll } from "vitest";
import { migrateLibsql } from "../../scripts/lib/db-migrate.mjs";
import { readModelSuite } from "../read-models/suite";

const dir = mkdtempSync(join(tmpdir(), "plinth-libsql-"));
const url = `file:${join(dir, "read-models.db")}`;
const client = createClient({ url });

beforeAll(async () => {
  await migrateLibsql({ url });
});
afterAll(() => {
  client.close();
  rmSync(dir, { recursive: true, force: true });
});

readModelSuite("libSQL", () => drizzle(client));
