// Every table that names a tenant is read by tenant: the erasure deletes a tenant's rows from
// each, and the hourly tenants/sweep-erased job asks each, for 15 days after every erasure,
// whether a late write left one. A table without an index starting with tenant_id is read whole
// each time, however many other tenants' rows it holds (api_key_index, dead_letters, dev_mailbox
// had none until migration 0012).
import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { tenantRowProbes } from "../../src/kernel/erasure/tables";
import { modules } from "../../src/modules";

const db = drizzle(env.DB);

describe("tables that name a tenant", () => {
  it("are each searched by an index on tenant_id, never scanned, by the sweep's probe", async () => {
    const probes = tenantRowProbes(db, modules, ["t-a", "t-b"]);
    expect(probes.length).toBeGreaterThan(5);
    const unindexed: string[] = [];
    for (const { name, query } of probes) {
      const plan = await db.all<{ detail: string }>(sql`explain query plan ${query.getSQL()}`);
      const onTable = plan.map((row) => row.detail).filter((d) => new RegExp(`\\b${name}\\b`).test(d));
      if (!onTable.some((d) => /^SEARCH \S+ USING (COVERING )?INDEX .*\(tenant_id=\?\)/.test(d))) {
        unindexed.push(`${name}: ${onTable.join("; ")}`);
      }
    }
    expect(unindexed).toEqual([]);
  });
});
