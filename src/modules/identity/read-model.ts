import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Routes an API key to its tenant: SHA-256 of the key -> tenant id. Written
 * before the key is created in the tenant's directory, which stays the
 * authority (revocation, expiry, scopes): an index row without a directory
 * key is an unknown key.
 */
export const apiKeyIndex = sqliteTable(
  "api_key_index",
  {
    keyHash: text("key_hash").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    createdAt: text("created_at").notNull(),
  },
  // A tenant's erasure deletes its rows, and the hourly sweep of erased tenants looks for any
  // left: by tenant, not by a scan of every tenant's keys.
  (t) => [index("api_key_index_tenant").on(t.tenantId)],
);
