import { eq, inArray } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { chunked, D1_MAX_PARAMS } from "../../kernel/db/params";
import { apiKeyIndex } from "./read-model";

/**
 * The D1 index that routes an API key (by its SHA-256) to its tenant. The
 * tenant's directory stays the authority on the key; this only says where to
 * ask. Rows are added before the directory creates the key and removed after
 * it revokes it, so a stray row is at worst an unknown key.
 */
export function keyIndex(db: D1Database) {
  const orm = drizzle(db);
  return {
    /** The tenant a key hash belongs to, or null. */
    async tenantOf(hash: string): Promise<string | null> {
      const row = await orm
        .select({ tenantId: apiKeyIndex.tenantId })
        .from(apiKeyIndex)
        .where(eq(apiKeyIndex.keyHash, hash))
        .get();
      return row?.tenantId ?? null;
    },
    async add(hash: string, tenantId: string, now: string): Promise<void> {
      await orm.insert(apiKeyIndex).values({ keyHash: hash, tenantId, createdAt: now });
    },
    /** Forgets `hashes`, in statements of at most D1's 100 parameters, run as one batch (one round trip). */
    async remove(hashes: readonly string[]): Promise<void> {
      const [first, ...rest] = chunked(hashes, D1_MAX_PARAMS).map((run) =>
        orm.delete(apiKeyIndex).where(inArray(apiKeyIndex.keyHash, run)),
      );
      if (first) await orm.batch([first, ...rest]);
    },
    async removeTenant(tenantId: string): Promise<void> {
      await orm.delete(apiKeyIndex).where(eq(apiKeyIndex.tenantId, tenantId));
    },
  };
}
