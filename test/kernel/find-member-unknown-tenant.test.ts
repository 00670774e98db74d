// A tenant id no tenant has (never provisioned, or deleted and erased) reaches no directory
// object through the kernel's member ports: opening one migrates its schema, storage that
// persists (billed) and that no tenant erasure will ever remove, since the tenant is not real.
import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { findMember, membersWithRole } from "../../src/kernel/auth/member-directory";
import { testRuntime } from "../helpers";

/** Whether the TenantDirectory named `tenantId` holds storage. */
async function hasDirectory(tenantId: string): Promise<boolean> {
  const id = env.TENANT_DIRECTORY.idFromName(tenantId);
  return (await listDurableObjectIds(env.TENANT_DIRECTORY)).some((o) => o.equals(id));
}

describe("findMember and membersWithRole for a tenant id no tenant has", () => {
  it("answer none and leave no directory object behind", async () => {
    const runtime = testRuntime();
    const ids = [`no-such-${crypto.randomUUID()}`, `no-such-${crypto.randomUUID()}`];
    expect(await findMember(runtime, ids[0] ?? "", "u1")).toBeNull();
    expect(await membersWithRole(runtime, ids[1] ?? "", ["owner"])).toEqual([]);
    for (const id of ids) expect(await hasDirectory(id), id).toBe(false);
  });
});
