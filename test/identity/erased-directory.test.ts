// A tenant's directory, once its erasure emptied it, takes no late write: a job that listed
// the tenant before its DELETE (apply-grants, purge-tokens) or a request in flight must not
// make it hold the erased tenant's rows again (a grant ledger, settings, a role), and it
// answers as an empty directory.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directory } from "../../src/modules/identity/directory/contract";
import { newTenant } from "./helpers";

const now = new Date().toISOString();
const ctx = { now, actor: { kind: "system" as const, id: "test" }, requestId: null };

/** Every row the directory's SQLite holds, by table, leaving out the empty ones. */
async function rowsOf(tenantId: string): Promise<Record<string, number>> {
  return runInDurableObject(env.TENANT_DIRECTORY.getByName(tenantId), async (_instance, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>(
        "select name from sqlite_master where type = 'table' and name not like '\\_%' escape '\\'",
      )
      .toArray();
    const counts: Record<string, number> = {};
    for (const { name } of tables) {
      const n = state.storage.sql.exec<{ n: number }>(`select count(*) as n from "${name}"`).one().n;
      if (n > 0) counts[name] = n;
    }
    return counts;
  });
}

describe("the TenantDirectory after its tenant's erasure", () => {
  it("keeps no late job's or request's write, and answers as empty", async () => {
    const t = await newTenant("edir");
    const dir = directory(env, t.id);
    await dir.eraseAll({ tenant_id: t.id });
    const erased = await rowsOf(t.id);

    // The jobs: ignored, not failed, so the run goes on to the next tenant.
    expect(await dir.applyGrants({ ctx, grants: { member: ["x.y"] } })).toEqual({
      added: [],
      recorded: 0,
      baseline: false,
    });
    expect(await dir.purgeExpired({ now, keysExpiredBefore: now, invitationsEndedBefore: now })).toEqual({
      one_time_tokens: 0,
      families: 0,
      refresh_tokens: 0,
      key_hashes: [],
      invitations: 0,
      mail_dismissals: [],
    });
    // A request in flight: refused.
    await expect(dir.updateSettings({ ctx, patch: { require_verified_email: true } })).rejects.toThrow(/erased/);

    expect(await rowsOf(t.id)).toEqual(erased);
    expect(await dir.tenantState()).toBeNull();
    expect(await dir.listRoles()).toEqual([]);
  });
});
