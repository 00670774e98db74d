// The hourly tenants/sweep-erased job reads the tombstones of the last 15 days, a page at a
// time. erased_tenants keeps a row per tenant ever erased, so a page read must go by an index
// on erased_at (then id, the page's order and cursor), never walk every tombstone ever written.
import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { erasedSinceQuery } from "../../src/modules/tenants/erasure-store";

const db = drizzle(env.DB);

describe("the erased-tenant sweep's page read", () => {
  it("searches erased_tenants by its (erased_at, id) index, with no sort of its own", async () => {
    const query = erasedSinceQuery(db, { erasedAt: "2026-01-01T00:00:00.000Z", id: "t-after" }, 500);
    const plan = await db.all<{ detail: string }>(sql`explain query plan ${query.getSQL()}`);
    const details = plan.map((row) => row.detail);
    const onTombstones = details.filter((d) => /\berased_tenants\b/.test(d));
    expect(onTombstones, details.join("; ")).toEqual([
      expect.stringMatching(
        /^SEARCH erased_tenants USING COVERING INDEX erased_tenants_by_time \(\(erased_at,id\)>\(\?,\?\)\)$/,
      ),
    ]);
    expect(
      details.filter((d) => /TEMP B-TREE/.test(d)),
      details.join("; "),
    ).toEqual([]);
  });
});
