// The D1 index routing an API key's hash to its tenant: removals of more hashes than D1
// binds in one statement (a purge of many expired keys, a cascade of many revoked ones).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { D1_MAX_PARAMS } from "../../src/kernel/db/params";
import { keyIndex } from "../../src/modules/identity/key-index";

describe("the API key index", () => {
  it("removes more hashes than D1 binds in one statement", async () => {
    const index = keyIndex(env.DB);
    const tenant = `ki-${Date.now().toString(36)}`;
    const hashes = Array.from({ length: 2 * D1_MAX_PARAMS + 5 }, (_, i) => `${tenant}-${String(i).padStart(4, "0")}`);
    for (const hash of hashes) await index.add(hash, tenant, "2026-01-01T00:00:00.000Z");
    await index.remove(hashes.slice(1));
    const left = await env.DB.prepare("select key_hash from api_key_index where tenant_id = ?").bind(tenant).all();
    expect(left.results).toEqual([{ key_hash: hashes[0] }]);
  });
});
